import { LOGMINER_CONTENTS_SELECT_LIST } from './logminer/index.js';
import { ORACLE_DATE_FORMAT, ORACLE_TIMESTAMP_FORMAT } from './oracle-text.js';

/**
 * The SQL the ERP connector sends, to a real Oracle through node-oracledb and to the stand-in alike. The
 * stand-in recognises these texts; keeping them in one module keeps both sides speaking the same dialect.
 */

/** Pins how Oracle writes values as text, so SQL_REDO literals and TO_CHAR parse the same every time. */
export const NLS_STATEMENTS: readonly string[] = [
  `ALTER SESSION SET NLS_DATE_FORMAT = '${ORACLE_DATE_FORMAT}'`,
  `ALTER SESSION SET NLS_TIMESTAMP_FORMAT = '${ORACLE_TIMESTAMP_FORMAT}'`,
  `ALTER SESSION SET NLS_TIMESTAMP_TZ_FORMAT = '${ORACLE_TIMESTAMP_FORMAT} TZH:TZM'`,
  `ALTER SESSION SET NLS_NUMERIC_CHARACTERS = '.,'`,
];

export const CURRENT_SCN_SQL = 'SELECT TO_CHAR(CURRENT_SCN) AS CURRENT_SCN FROM V$DATABASE';

/** The start SCN of the oldest transaction still open: mining must resume at or before it. */
export const OLDEST_OPEN_TRANSACTION_SQL = 'SELECT TO_CHAR(MIN(START_SCN)) AS START_SCN FROM V$TRANSACTION';

/** The SCN of `:seconds` ago (where the first run's snapshot is taken). */
export const SCN_SECONDS_AGO_SQL =
  "SELECT TO_CHAR(TIMESTAMP_TO_SCN(SYSTIMESTAMP - NUMTODSINTERVAL(:seconds, 'SECOND'))) AS SCN FROM DUAL";

/** The database's clock, as wall time of its zone (the upper bound of watermark reads). */
export const SYSDATE_SQL = `SELECT TO_CHAR(SYSDATE, '${ORACLE_DATE_FORMAT}') AS NOW FROM DUAL`;

/** `11.2.0.4.0`, `19.0.0.0.0`: decides whether STANDARD_HASH exists (12.1 and later). */
export const DB_VERSION_SQL =
  "SELECT VERSION FROM PRODUCT_COMPONENT_VERSION WHERE PRODUCT LIKE 'Oracle Database%'";

/**
 * The redo a window needs: archived logs reaching past the start SCN (Debezium's query) and the current
 * online log. FIRST_CHANGE/NEXT_CHANGE as text; the connector orders them.
 */
export const LOG_FILES_SQL =
  "SELECT NAME, TO_CHAR(FIRST_CHANGE#) AS FIRST_CHANGE, TO_CHAR(NEXT_CHANGE#) AS NEXT_CHANGE FROM V$ARCHIVED_LOG WHERE NAME IS NOT NULL AND ARCHIVED = 'YES' AND STATUS = 'A' AND NEXT_CHANGE# > :startScn AND DEST_ID IN (SELECT DEST_ID FROM V$ARCHIVE_DEST_STATUS WHERE STATUS = 'VALID' AND TYPE = 'LOCAL' AND ROWNUM = 1) " +
  "UNION ALL SELECT MIN(F.MEMBER) AS NAME, TO_CHAR(L.FIRST_CHANGE#) AS FIRST_CHANGE, TO_CHAR(L.NEXT_CHANGE#) AS NEXT_CHANGE FROM V$LOG L, V$LOGFILE F WHERE F.GROUP# = L.GROUP# AND L.STATUS = 'CURRENT' GROUP BY L.FIRST_CHANGE#, L.NEXT_CHANGE#";

export const addLogFileSql = (first: boolean) =>
  `BEGIN sys.dbms_logmnr.add_logfile(LOGFILENAME => :name, OPTIONS => DBMS_LOGMNR.${first ? 'NEW' : 'ADDFILE'}); END;`;

/** COMMITTED_DATA_ONLY by default: LogMiner returns committed transactions whole, in commit order. */
export const startLogMinerSql = (committedDataOnly: boolean) =>
  `BEGIN sys.dbms_logmnr.start_logmnr(startScn => :startScn, endScn => :endScn, OPTIONS => DBMS_LOGMNR.DICT_FROM_ONLINE_CATALOG${committedDataOnly ? ' + DBMS_LOGMNR.COMMITTED_DATA_ONLY' : ''} + DBMS_LOGMNR.NO_ROWID_IN_STMT); END;`;

export const END_LOGMINER_SQL = 'BEGIN SYS.DBMS_LOGMNR.END_LOGMNR(); END;';

/** DML, DDL, START, COMMIT, MISSING_SCN, ROLLBACK and UNSUPPORTED rows of the given owners. */
export const LOGMINER_OPERATION_CODES = [1, 2, 3, 5, 6, 7, 34, 36, 255] as const;

export function logMinerContentsSql(owners: readonly string[]): string {
  const list = owners.map((o) => `'${checkIdentifier(o)}'`).join(', ');
  return (
    `SELECT ${LOGMINER_CONTENTS_SELECT_LIST} FROM V$LOGMNR_CONTENTS WHERE SCN >= :startScn AND SCN <= :endScn ` +
    `AND OPERATION_CODE IN (${LOGMINER_OPERATION_CODES.join(', ')}) AND (SEG_OWNER IS NULL OR SEG_OWNER IN (${list}))`
  );
}

/** A table's columns in order, as the data dictionary has them now (it changes with DDL). */
export const TABLE_COLUMNS_SQL =
  'SELECT COLUMN_NAME, DATA_TYPE, TO_CHAR(DATA_PRECISION) AS DATA_PRECISION, TO_CHAR(DATA_SCALE) AS DATA_SCALE, TO_CHAR(DATA_LENGTH) AS DATA_LENGTH FROM ALL_TAB_COLUMNS WHERE OWNER = :owner AND TABLE_NAME = :tableName ORDER BY COLUMN_ID';

/** Owners, tables and columns are interpolated into SQL: only plain Oracle identifiers may be. */
export function checkIdentifier(name: string): string {
  if (!/^[A-Z][A-Z0-9_$#]{0,127}$/.test(name)) throw new Error(`not a plain Oracle identifier: ${name}`);
  return name;
}

export const quoteIdentifier = (name: string) => `"${checkIdentifier(name)}"`;
