import { SourceDataError } from '@aurora/core';
import { sqlExcerpt } from './continuations.js';

/**
 * A literal from `SQL_REDO`, kept as Oracle wrote it and never evaluated.
 *
 * A quoted literal (and `UNISTR(...)`, and `||` chains of both) is a plain JS string: with the session's
 * NLS settings pinned, LogMiner quotes NUMBERs and VARCHAR2s alike (`'123'`), so almost every value is
 * one, and a bare string costs no wrapper object per column on the hot path. Everything else is a tagged
 * object whose `text` is the literal's own text; casting to the column's type (and choosing a time zone
 * for a zone-less DATE) is the landing step's job, which knows the table's schema.
 */
export type RedoValue = string | RedoTypedValue;

/** The literals that are not plain strings; see {@link RedoValue}. */
export type RedoTypedValue =
  /** An unquoted numeric literal (`42`, `-1.5E3`); `text` keeps every digit. */
  | { kind: 'number'; text: string }
  /** `TO_DATE(text, format)`. */
  | { kind: 'date'; text: string; format: string }
  /** `TO_TIMESTAMP(text[, format])`. */
  | { kind: 'timestamp'; text: string; format: string | null }
  /** `TO_TIMESTAMP_TZ(text[, format])`. */
  | { kind: 'timestamp_tz'; text: string; format: string | null }
  /** `HEXTORAW(hex)`; `hex` upper-cased, as RAWTOHEX would print it. */
  | { kind: 'raw'; hex: string }
  /** `EMPTY_CLOB()` / `EMPTY_BLOB()`: the LOB's content, if captured at all, arrives in later LOB rows. */
  | { kind: 'empty_lob'; lob: 'CLOB' | 'BLOB' };

/**
 * Column name -> value (`null` for SQL NULL). A column called `__proto__` is stored as an own property
 * (never as the object's prototype), so hostile or odd column names stay ordinary keys.
 */
export type RedoColumns = Record<string, RedoValue | null>;

/**
 * One parsed DML statement. `after` holds an insert's columns or an update's SET columns; `before`
 * holds the WHERE columns of an update or delete (the logged old values: complete only with
 * `SUPPLEMENTAL LOG DATA (ALL) COLUMNS`). Owner, table and column names are as Oracle stores them.
 */
export type ParsedRedo =
  | { op: 'I'; owner: string; table: string; after: RedoColumns; before: null }
  | { op: 'U'; owner: string; table: string; after: RedoColumns; before: RedoColumns }
  | { op: 'D'; owner: string; table: string; after: null; before: RedoColumns };

/**
 * Parses the `SQL_REDO` of one LogMiner DML row (joined from its continuation rows):
 * - `insert into "O"."T"("C1","C2") values ('1','x');`
 * - `update "O"."T" set "C2" = 'new' where "ID" = '1' and "C2" = 'old';`
 * - `delete from "O"."T" where "ID" = '1' and "C2" IS NULL;`
 *
 * A hand-written single pass over the text (no regular expressions, nothing evaluated), linear in its
 * length, because it runs for every changed row. Keywords are case-insensitive; unquoted identifiers are
 * upper-cased as Oracle does; an unquoted `ROWID = '...'` predicate (present when the session lacks
 * NO_ROWID_IN_STMT) is skipped, the ROWID being in the row's ROW_ID column. Literals: see
 * {@link RedoValue}. UPDATE and DELETE must have a WHERE clause: without one nothing identifies the row.
 *
 * @throws SourceDataError for anything else (unknown statement or function, unterminated literal,
 *   column/value count mismatch, text after the `;`), with the offset and the start of the SQL.
 */
export function parseSqlRedo(sql: string): ParsedRedo {
  return new RedoParser(sql).statement();
}

const SPACE = 32;
const TAB = 9;
const LF = 10;
const CR = 13;
const QUOTE = 39; // '
const DQUOTE = 34; // "
const COMMA = 44;
const DOT = 46;
const LPAREN = 40;
const RPAREN = 41;
const SEMI = 59;
const EQ = 61;
const PIPE = 124;
const BACKSLASH = 92;
const PLUS = 43;
const MINUS = 45;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Characters that may follow the first letter of an unquoted Oracle identifier. */
function isWordChar(c: number): boolean {
  return isLetter(c) || isDigit(c) || c === 95 /* _ */ || c === 36 /* $ */ || c === 35 /* # */;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function emptyColumns(): RedoColumns {
  // A plain literal, not Object.create(null): prototype-less objects start in V8's slow dictionary mode,
  // which doubled the parse time. setColumn keeps a `__proto__` column from touching the prototype.
  return {};
}

function setColumn(columns: RedoColumns, name: string, value: RedoValue | null): void {
  if (name === '__proto__') {
    Object.defineProperty(columns, name, { value, enumerable: true, writable: true, configurable: true });
  } else columns[name] = value;
}

class RedoParser {
  readonly #sql: string;
  #pos = 0;
  /** Whether the identifier read last was quoted (an unquoted ROWID is a pseudo-column, "ROWID" is not). */
  #lastIdentQuoted = false;

  constructor(sql: string) {
    this.#sql = sql;
  }

  statement(): ParsedRedo {
    this.#skipWs();
    let parsed: ParsedRedo;
    if (this.#keyword('insert')) parsed = this.#insert();
    else if (this.#keyword('update')) parsed = this.#update();
    else if (this.#keyword('delete')) parsed = this.#delete();
    else this.#fail('expected insert, update or delete');
    this.#skipWs();
    if (this.#peek() === SEMI) this.#pos++;
    this.#skipWs();
    if (this.#pos < this.#sql.length) this.#fail('unexpected text after the statement');
    return parsed;
  }

  #insert(): ParsedRedo {
    this.#expectKeyword('into');
    const [owner, table] = this.#qualifiedName();
    this.#expectChar(LPAREN);
    const columns: string[] = [];
    do columns.push(this.#identifier());
    while (this.#acceptChar(COMMA));
    this.#expectChar(RPAREN);
    this.#expectKeyword('values');
    this.#expectChar(LPAREN);
    const after = emptyColumns();
    let index = 0;
    do {
      const column = columns[index];
      if (column === undefined) this.#fail(`more values than the ${columns.length} columns`);
      setColumn(after, column, this.#value());
      index++;
    } while (this.#acceptChar(COMMA));
    if (index !== columns.length) this.#fail(`${index} values for ${columns.length} columns`);
    this.#expectChar(RPAREN);
    return { op: 'I', owner, table, after, before: null };
  }

  #update(): ParsedRedo {
    const [owner, table] = this.#qualifiedName();
    this.#expectKeyword('set');
    const after = emptyColumns();
    do {
      const column = this.#identifier();
      this.#expectChar(EQ);
      setColumn(after, column, this.#value());
    } while (this.#acceptChar(COMMA));
    this.#expectKeyword('where');
    return { op: 'U', owner, table, after, before: this.#predicates() };
  }

  #delete(): ParsedRedo {
    this.#expectKeyword('from');
    const [owner, table] = this.#qualifiedName();
    this.#expectKeyword('where');
    return { op: 'D', owner, table, after: null, before: this.#predicates() };
  }

  /** `"C" = value` or `"C" IS NULL`, joined by `and`. */
  #predicates(): RedoColumns {
    const before = emptyColumns();
    do {
      const column = this.#identifier();
      const pseudoRowId = !this.#lastIdentQuoted && column === 'ROWID';
      this.#skipWs();
      let value: RedoValue | null;
      if (this.#acceptChar(EQ)) value = this.#value();
      else if (this.#keyword('is')) {
        this.#expectKeyword('null');
        value = null;
      } else this.#fail('expected = or IS NULL');
      if (!pseudoRowId) setColumn(before, column, value);
    } while (this.#keyword('and'));
    return before;
  }

  #qualifiedName(): [string, string] {
    const owner = this.#identifier();
    this.#expectChar(DOT);
    return [owner, this.#identifier()];
  }

  #identifier(): string {
    this.#skipWs();
    const sql = this.#sql;
    const c = this.#peek();
    if (c === DQUOTE) {
      this.#lastIdentQuoted = true;
      return this.#quoted(DQUOTE, '"', 'identifier');
    }
    if (!isLetter(c)) this.#fail('expected an identifier');
    this.#lastIdentQuoted = false;
    const start = this.#pos;
    while (this.#pos < sql.length && isWordChar(sql.charCodeAt(this.#pos))) this.#pos++;
    return sql.slice(start, this.#pos).toUpperCase();
  }

  /**
   * Reads a quoted token starting at the opening quote; a doubled quote inside is one quote. Uses
   * indexOf to jump between quotes, so a megabyte-long literal costs a few native scans.
   */
  #quoted(quote: number, quoteChar: string, what: string): string {
    const sql = this.#sql;
    const open = this.#pos;
    let from = open + 1;
    let text = '';
    for (;;) {
      const close = sql.indexOf(quoteChar, from);
      if (close < 0) {
        this.#pos = open;
        this.#fail(`unterminated quoted ${what}`);
      }
      if (sql.charCodeAt(close + 1) === quote) {
        text += sql.slice(from, close + 1);
        from = close + 2;
        continue;
      }
      text += sql.slice(from, close);
      this.#pos = close + 1;
      return text;
    }
  }

  #value(): RedoValue | null {
    this.#skipWs();
    const c = this.#peek();
    if (c === QUOTE) return this.#concatenation(this.#quoted(QUOTE, "'", 'string literal'));
    if (isDigit(c) || c === MINUS || c === PLUS || c === DOT) return this.#number();
    if (!isLetter(c)) this.#fail('expected a value');
    // N'...' is a national-character literal: the same text for our purposes.
    if ((c === 78 || c === 110) && this.#sql.charCodeAt(this.#pos + 1) === QUOTE) {
      this.#pos++;
      return this.#concatenation(this.#quoted(QUOTE, "'", 'string literal'));
    }
    const name = this.#word();
    if (name === 'NULL') return null;
    this.#expectChar(LPAREN);
    let value: RedoValue;
    switch (name) {
      case 'TO_DATE': {
        const text = this.#stringArgument();
        this.#expectChar(COMMA);
        value = { kind: 'date', text, format: this.#stringArgument() };
        break;
      }
      case 'TO_TIMESTAMP':
      case 'TO_TIMESTAMP_TZ': {
        const text = this.#stringArgument();
        const format = this.#acceptChar(COMMA) ? this.#stringArgument() : null;
        value = { kind: name === 'TO_TIMESTAMP' ? 'timestamp' : 'timestamp_tz', text, format };
        break;
      }
      case 'HEXTORAW':
        value = { kind: 'raw', hex: this.#hex(this.#stringArgument()) };
        break;
      case 'EMPTY_CLOB':
      case 'EMPTY_BLOB':
        value = { kind: 'empty_lob', lob: name === 'EMPTY_CLOB' ? 'CLOB' : 'BLOB' };
        break;
      case 'UNISTR':
        value = this.#unistr(this.#stringArgument());
        this.#expectChar(RPAREN);
        return this.#concatenation(value);
      default:
        this.#fail(`unsupported function ${name}`);
    }
    this.#expectChar(RPAREN);
    return value;
  }

  /** `a || b || ...` where every operand is a string literal or UNISTR(...): one string. */
  #concatenation(first: string): string {
    let text = first;
    for (;;) {
      this.#skipWs();
      if (this.#peek() !== PIPE || this.#sql.charCodeAt(this.#pos + 1) !== PIPE) return text;
      this.#pos += 2;
      this.#skipWs();
      const c = this.#peek();
      if (c === QUOTE) text += this.#quoted(QUOTE, "'", 'string literal');
      else if (isLetter(c) && this.#word() === 'UNISTR') {
        this.#expectChar(LPAREN);
        text += this.#unistr(this.#stringArgument());
        this.#expectChar(RPAREN);
      } else this.#fail('|| must join string literals');
    }
  }

  #stringArgument(): string {
    this.#skipWs();
    if (this.#peek() !== QUOTE) this.#fail('expected a string literal argument');
    return this.#quoted(QUOTE, "'", 'string literal');
  }

  #number(): RedoTypedValue {
    const sql = this.#sql;
    const start = this.#pos;
    let c = this.#peek();
    if (c === MINUS || c === PLUS) c = sql.charCodeAt(++this.#pos);
    let digits = 0;
    while (isDigit(c)) {
      digits++;
      c = sql.charCodeAt(++this.#pos);
    }
    if (c === DOT) {
      c = sql.charCodeAt(++this.#pos);
      while (isDigit(c)) {
        digits++;
        c = sql.charCodeAt(++this.#pos);
      }
    }
    if (digits === 0) this.#fail('malformed number');
    if (c === 69 || c === 101) {
      c = sql.charCodeAt(++this.#pos);
      if (c === MINUS || c === PLUS) c = sql.charCodeAt(++this.#pos);
      if (!isDigit(c)) this.#fail('malformed number exponent');
      while (isDigit(c)) c = sql.charCodeAt(++this.#pos);
    }
    if (isWordChar(c)) this.#fail('malformed number');
    return { kind: 'number', text: sql.slice(start, this.#pos) };
  }

  #hex(text: string): string {
    for (let i = 0; i < text.length; i++) {
      if (hexDigit(text.charCodeAt(i)) < 0) this.#fail('HEXTORAW argument is not hexadecimal');
    }
    return text.toUpperCase();
  }

  /** Decodes UNISTR's escapes: `\XXXX` is one UTF-16 code unit (pairs make surrogates), `\\` a backslash. */
  #unistr(text: string): string {
    if (text.indexOf('\\') < 0) return text;
    let out = '';
    let from = 0;
    for (;;) {
      const slash = text.indexOf('\\', from);
      if (slash < 0) return out + text.slice(from);
      out += text.slice(from, slash);
      if (text.charCodeAt(slash + 1) === BACKSLASH) {
        out += '\\';
        from = slash + 2;
        continue;
      }
      let unit = 0;
      for (let i = 1; i <= 4; i++) {
        const d = hexDigit(text.charCodeAt(slash + i));
        if (d < 0) this.#fail('UNISTR escape is not \\XXXX');
        unit = unit * 16 + d;
      }
      out += String.fromCharCode(unit);
      from = slash + 5;
    }
  }

  /** An unquoted word, upper-cased (function names, NULL). */
  #word(): string {
    const sql = this.#sql;
    const start = this.#pos;
    while (this.#pos < sql.length && isWordChar(sql.charCodeAt(this.#pos))) this.#pos++;
    return sql.slice(start, this.#pos).toUpperCase();
  }

  /** Consumes `word` (lower-case, letters only) case-insensitively when it stands alone next. */
  #keyword(word: string): boolean {
    this.#skipWs();
    const sql = this.#sql;
    const start = this.#pos;
    if (start + word.length > sql.length) return false;
    for (let i = 0; i < word.length; i++) {
      // ORing 0x20 lower-cases an ASCII letter; `word` holds letters only, so nothing else can match.
      if ((sql.charCodeAt(start + i) | 0x20) !== word.charCodeAt(i)) return false;
    }
    if (isWordChar(sql.charCodeAt(start + word.length))) return false;
    this.#pos = start + word.length;
    return true;
  }

  #expectKeyword(word: string): void {
    if (!this.#keyword(word)) this.#fail(`expected ${word}`);
  }

  #acceptChar(c: number): boolean {
    this.#skipWs();
    if (this.#peek() !== c) return false;
    this.#pos++;
    return true;
  }

  #expectChar(c: number): void {
    if (!this.#acceptChar(c)) this.#fail(`expected ${String.fromCharCode(c)}`);
  }

  #peek(): number {
    // NaN past the end, which equals no character code.
    return this.#sql.charCodeAt(this.#pos);
  }

  #skipWs(): void {
    const sql = this.#sql;
    let c = sql.charCodeAt(this.#pos);
    while (c === SPACE || c === LF || c === CR || c === TAB) c = sql.charCodeAt(++this.#pos);
  }

  #fail(reason: string): never {
    throw new SourceDataError(`SQL_REDO not understood: ${reason} at offset ${this.#pos}`, {
      details: { reason, offset: this.#pos, length: this.#sql.length, sql: sqlExcerpt(this.#sql) },
    });
  }
}
