import type { OracleType } from '@aurora/plant';
import { OracleServerError } from '../session.js';

/**
 * Translates the Oracle SELECTs the ERP connector issues against tables into DuckDB SQL, so that the
 * stand-in answers them with real SQL over its tables. The subset: a select list of expressions with
 * aliases, `FROM "OWNER"."TABLE" [AS OF SCN :b]`, `WHERE` with comparisons and AND/OR, `ORDER BY`;
 * functions TO_CHAR (with the connector's two date formats, or none), TO_DATE, NVL, MIN, MAX, COUNT,
 * LOWER, RAWTOHEX and STANDARD_HASH (19c only); `||`; binds `:name`. Anything else fails as Oracle would
 * (ORA-00904 for an unknown function, ORA-01821 for a date format it does not know).
 */

export interface TranslatedSelect {
  sql: string;
  /** `OWNER.TABLE` read. */
  table: string;
  /** The `AS OF SCN` operand: a bind name (`:scn` → `scn`) or a literal. */
  asOf?: { bind: string } | { literal: string };
  /** Bind names in the order they appear (DuckDB gets them as `$name`). */
  binds: string[];
}

type Token =
  | { t: 'ident'; v: string; quoted: boolean }
  | { t: 'str'; v: string }
  | { t: 'num'; v: string }
  | { t: 'bind'; v: string }
  | { t: 'op'; v: string };

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        const j = sql.indexOf("'", i);
        if (j < 0) throw new OracleServerError('ORA-01756', 'quoted string not properly terminated');
        v += sql.slice(i, j);
        if (sql[j + 1] === "'") {
          v += "'";
          i = j + 2;
        } else {
          i = j + 1;
          break;
        }
      }
      out.push({ t: 'str', v });
    } else if (c === '"') {
      const j = sql.indexOf('"', i + 1);
      out.push({ t: 'ident', v: sql.slice(i + 1, j), quoted: true });
      i = j + 1;
    } else if (c === ':' && /[A-Za-z]/.test(sql[i + 1] ?? '')) {
      const m = /^:([A-Za-z][A-Za-z0-9_]*)/.exec(sql.slice(i))!;
      out.push({ t: 'bind', v: m[1]! });
      i += m[0].length;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(sql[i + 1] ?? '') && lastIsOperator(out))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(sql.slice(i))!;
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$#]*/.exec(sql.slice(i))!;
      out.push({ t: 'ident', v: m[0].toUpperCase(), quoted: false });
      i += m[0].length;
    } else {
      const two = sql.slice(i, i + 2);
      if (['||', '>=', '<=', '<>', '!='].includes(two)) {
        out.push({ t: 'op', v: two });
        i += 2;
      } else {
        out.push({ t: 'op', v: c });
        i++;
      }
    }
  }
  return out;
}

function lastIsOperator(tokens: Token[]): boolean {
  const last = tokens.at(-1);
  return !last || (last.t === 'op' && last.v !== ')');
}

const DATE_FORMATS: Record<string, string> = {
  'YYYY-MM-DD HH24:MI:SS': '%Y-%m-%d %H:%M:%S',
  'YYYY-MM-DD HH24:MI:SS.FF6': '%Y-%m-%d %H:%M:%S.%f',
  'YYYY-MM-DD HH24:MI:SS.FF': '%Y-%m-%d %H:%M:%S.%f',
};

const quoteLiteral = (s: string) => `'${s.replaceAll("'", "''")}'`;
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IS', 'NULL', 'AS', 'ASC', 'DESC', 'IN', 'BETWEEN', 'LIKE']);

/**
 * @param columnType the Oracle type of a column of the table read (TO_CHAR without a format renders by it).
 * @param hasStandardHash false on an 11.2 database, where STANDARD_HASH does not exist.
 */
export function translateSelect(
  sql: string,
  columnType: (table: string, column: string) => OracleType | undefined,
  options: { hasStandardHash: boolean; tableAlias?: (table: string) => string | undefined },
): TranslatedSelect {
  const tokens = tokenize(sql.trim().replace(/;$/, ''));
  const upper = (k: number) => {
    const tok = tokens[k];
    return tok && tok.t === 'ident' && !tok.quoted ? tok.v : undefined;
  };
  if (upper(0) !== 'SELECT') throw new OracleServerError('ORA-00900', 'invalid SQL statement');
  let fromAt = -1;
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k]!;
    if (tok.t === 'op' && tok.v === '(') depth++;
    else if (tok.t === 'op' && tok.v === ')') depth--;
    else if (depth === 0 && upper(k) === 'FROM') {
      fromAt = k;
      break;
    }
  }
  if (fromAt < 0) throw new OracleServerError('ORA-00923', 'FROM keyword not found where expected');
  const owner = tokens[fromAt + 1];
  const dot = tokens[fromAt + 2];
  const name = tokens[fromAt + 3];
  if (owner?.t !== 'ident' || dot?.t !== 'op' || dot.v !== '.' || name?.t !== 'ident')
    throw new OracleServerError('ORA-00942', 'table or view does not exist (expected OWNER.TABLE)');
  const table = `${owner.v}.${name.v}`;
  let rest = fromAt + 4;
  let asOf: TranslatedSelect['asOf'];
  if (upper(rest) === 'AS' && upper(rest + 1) === 'OF' && upper(rest + 2) === 'SCN') {
    const operand = tokens[rest + 3];
    if (operand?.t === 'bind') asOf = { bind: operand.v };
    else if (operand?.t === 'num') asOf = { literal: operand.v };
    else throw new OracleServerError('ORA-00905', 'missing keyword');
    rest += 4;
  }
  const binds: string[] = [];
  const typeOf = (col: string) => columnType(table, col);
  const emit = new Emitter(tokens, typeOf, options.hasStandardHash, binds);
  const selectList = emit.range(1, fromAt);
  const tail = emit.range(rest, tokens.length);
  const target = options.tableAlias?.(table) ?? `"${owner.v}"."${name.v}"`;
  return {
    sql: `SELECT ${selectList} FROM ${target}${tail ? ` ${tail}` : ''}`,
    table,
    ...(asOf ? { asOf } : {}),
    binds,
  };
}

class Emitter {
  constructor(
    private readonly tokens: Token[],
    private readonly typeOf: (column: string) => OracleType | undefined,
    private readonly hasStandardHash: boolean,
    private readonly binds: string[],
  ) {}

  /** Translates tokens [from, to) to DuckDB text. */
  range(from: number, to: number): string {
    const parts: string[] = [];
    let k = from;
    while (k < to) {
      const tok = this.tokens[k]!;
      const next = this.tokens[k + 1];
      if (tok.t === 'ident' && !tok.quoted && next?.t === 'op' && next.v === '(' && !KEYWORDS.has(tok.v)) {
        const close = this.#matching(k + 1);
        parts.push(this.#call(tok.v, this.#args(k + 2, close)));
        k = close + 1;
        continue;
      }
      parts.push(this.#token(tok));
      k++;
    }
    return parts
      .join(' ')
      .replaceAll(' . ', '.')
      .replaceAll('( ', '(')
      .replaceAll(' )', ')')
      .replaceAll(' ,', ',');
  }

  #token(tok: Token): string {
    switch (tok.t) {
      case 'str':
        return quoteLiteral(tok.v);
      case 'num':
        return tok.v;
      case 'bind':
        this.binds.push(tok.v);
        return `$${tok.v}`;
      case 'op':
        return tok.v === '!=' ? '<>' : tok.v;
      case 'ident':
        if (tok.quoted) return `"${tok.v}"`;
        if (tok.v === 'SYSDATE' || tok.v === 'SYSTIMESTAMP') return '$__sysdate';
        return tok.v;
    }
  }

  #matching(open: number): number {
    let depth = 0;
    for (let k = open; k < this.tokens.length; k++) {
      const tok = this.tokens[k]!;
      if (tok.t === 'op' && tok.v === '(') depth++;
      else if (tok.t === 'op' && tok.v === ')' && --depth === 0) return k;
    }
    throw new OracleServerError('ORA-00907', 'missing right parenthesis');
  }

  /** Argument token ranges of a call whose arguments span [from, close). */
  #args(from: number, close: number): [number, number][] {
    const out: [number, number][] = [];
    let depth = 0;
    let start = from;
    for (let k = from; k < close; k++) {
      const tok = this.tokens[k]!;
      if (tok.t === 'op' && tok.v === '(') depth++;
      else if (tok.t === 'op' && tok.v === ')') depth--;
      else if (depth === 0 && tok.t === 'op' && tok.v === ',') {
        out.push([start, k]);
        start = k + 1;
      }
    }
    if (close > from) out.push([start, close]);
    return out;
  }

  /** The Oracle type an argument has, when it is a column or MIN/MAX of one. */
  #argType([from, to]: [number, number]): OracleType | 'number' | undefined {
    const first = this.tokens[from];
    if (to - from === 1 && first?.t === 'ident') return this.typeOf(first.v);
    if (first?.t === 'ident' && (first.v === 'MIN' || first.v === 'MAX'))
      return this.#argType([from + 2, to - 1]);
    if (first?.t === 'ident' && first.v === 'COUNT') return 'number';
    return undefined;
  }

  #stringArg([from, to]: [number, number]): string | undefined {
    const tok = this.tokens[from];
    return to - from === 1 && tok?.t === 'str' ? tok.v : undefined;
  }

  #call(name: string, args: [number, number][]): string {
    const arg = (i: number) => this.range(args[i]![0], args[i]![1]);
    switch (name) {
      case 'TO_CHAR': {
        if (args.length === 2) {
          const format = this.#stringArg(args[1]!);
          const duck = format === undefined ? undefined : DATE_FORMATS[format];
          if (!duck) throw new OracleServerError('ORA-01821', `date format not recognized: ${format}`);
          return `strftime(${arg(0)}, '${duck}')`;
        }
        const type = this.#argType(args[0]!);
        if (type === 'number' || type?.type === 'NUMBER') return `ora_num(CAST(${arg(0)} AS VARCHAR))`;
        if (type?.type === 'DATE') return `strftime(${arg(0)}, '%Y-%m-%d %H:%M:%S')`;
        if (type?.type === 'TIMESTAMP') return `strftime(${arg(0)}, '%Y-%m-%d %H:%M:%S.%f')`;
        return `CAST(${arg(0)} AS VARCHAR)`;
      }
      case 'TO_DATE': {
        const format = args.length === 2 ? this.#stringArg(args[1]!) : 'YYYY-MM-DD HH24:MI:SS';
        const duck = format === undefined ? undefined : DATE_FORMATS[format];
        if (!duck) throw new OracleServerError('ORA-01821', `date format not recognized: ${format}`);
        return `strptime(${arg(0)}, '${duck}')`;
      }
      case 'NVL':
        return `coalesce(${arg(0)}, ${arg(1)})`;
      case 'LOWER':
        return `lower(${arg(0)})`;
      case 'RAWTOHEX':
        return `upper(${arg(0)})`;
      case 'STANDARD_HASH': {
        if (!this.hasStandardHash)
          throw new OracleServerError('ORA-00904', '"STANDARD_HASH": invalid identifier');
        const method = args.length === 2 ? this.#stringArg(args[1]!) : 'SHA1';
        if (method !== 'SHA256')
          throw new OracleServerError('ORA-00904', `STANDARD_HASH method ${method} not supported here`);
        return `sha256(${arg(0)})`;
      }
      case 'MIN':
      case 'MAX':
        return `${name.toLowerCase()}(${arg(0)})`;
      case 'COUNT':
        return args.length === 1 && this.tokens[args[0]![0]]?.t === 'op' ? 'count(*)' : `count(${arg(0)})`;
      default:
        throw new OracleServerError('ORA-00904', `"${name}": invalid identifier`);
    }
  }
}
