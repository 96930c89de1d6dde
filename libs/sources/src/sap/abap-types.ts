import { jsonText, SourceDataError } from '@aurora/core';
import type { CellValue, ColumnType } from '@aurora/lake';

/**
 * ABAP data types as they reach us over RFC (node-rfc's default mapping), and the Parquet column each
 * lands as: DATS (`YYYYMMDD`) -> TIMESTAMP at 00:00 UTC of that calendar date (a date, not an instant:
 * the plant's time zone is not applied); TIMS (`HHMMSS`) -> VARCHAR `HH:MM:SS`; BCD (QUAN, CURR, DEC,
 * received as strings) -> DOUBLE; INT -> BIGINT; FLTP -> DOUBLE; CHAR and NUMC -> VARCHAR (NUMC keeps its
 * leading zeros: it is a code, not a number).
 */
export type AbapType = 'CHAR' | 'NUMC' | 'DATS' | 'TIMS' | 'BCD' | 'INT' | 'FLTP';

export interface FieldSpec {
  /** The SAP field name, kept as SAP names it. */
  name: string;
  type: AbapType;
  /** Personal data: sealed on its way into the lake under the key of the subject this names. */
  personal?: SapSubject;
}

/**
 * Whose personal data a field holds: with `from`, the subject `<kind>:<value of that field in the same
 * record>` (a vendor's contact: `sap-vendor:<VENDOR>`); without it, the value itself is the subject's id
 * (an SAP user id: `sap-user:<value>`).
 */
export interface SapSubject {
  kind: string;
  from?: string;
}

export const columnTypeOf = (type: AbapType): ColumnType =>
  ({
    CHAR: 'VARCHAR',
    NUMC: 'VARCHAR',
    DATS: 'TIMESTAMP',
    TIMS: 'VARCHAR',
    BCD: 'DOUBLE',
    INT: 'BIGINT',
    FLTP: 'DOUBLE',
  })[type] as ColumnType;

/** RFC_READ_TABLE's FIELDS-TYPE (the DDIC internal type) -> the ABAP type it carries. */
export const READ_TABLE_TYPES: Readonly<Record<string, AbapType>> = {
  C: 'CHAR',
  N: 'NUMC',
  D: 'DATS',
  T: 'TIMS',
  P: 'BCD',
  I: 'INT',
  F: 'FLTP',
  g: 'CHAR',
};

/** A value as a message shows it: its JSON text (any depth), cut to something a person reads. */
const shown = (value: unknown): string => {
  const text = jsonText(value) ?? String(value);
  return text.length > 100 ? `${text.slice(0, 100)}… (${text.length} characters)` : text;
};

const bad = (field: string, type: AbapType, value: unknown) =>
  new SourceDataError(`field ${field}: ${shown(value)} is not a valid ${type}`, {
    details: { field, type, value: shown(value) },
  });

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/**
 * One value as the lake stores it. Initial values (DATS `00000000`, an empty string) are null. A value
 * that cannot be what its type says throws a SourceDataError naming the field: it is never coerced.
 */
export function fromAbap(field: string, type: AbapType, value: unknown): CellValue {
  if (value === undefined || value === null) return null;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  // node-rfc hands over strings, numbers and Buffers: a structure, a table, a boolean or a number that is
  // not one (NaN, Infinity) where a field belongs is not a value of any ABAP type.
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint')
    throw bad(field, type, value);
  if (typeof value === 'number' && !Number.isFinite(value)) throw bad(field, type, value);
  switch (type) {
    case 'CHAR': {
      const s = String(value).trimEnd();
      // SAP's UTF-16 can hold an unpaired surrogate; UTF-8 text cannot: kept in the dead letter instead.
      if (!s.isWellFormed()) throw bad(field, type, value);
      return s;
    }
    case 'NUMC': {
      const s = String(value).trim();
      if (s !== '' && !/^\d+$/.test(s)) throw bad(field, type, value);
      return s === '' ? null : s;
    }
    case 'DATS': {
      const s = String(value).trim();
      if (s === '' || s === '00000000') return null;
      const m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
      if (!m) throw bad(field, type, value);
      const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const at = new Date(Date.UTC(y, mo - 1, d));
      if (at.getUTCFullYear() !== y || at.getUTCMonth() !== mo - 1 || at.getUTCDate() !== d)
        throw bad(field, type, value);
      return at;
    }
    case 'TIMS': {
      const s = String(value).trim();
      if (s === '') return null;
      const m = /^([01]\d|2[0-3])([0-5]\d)([0-5]\d)$/.exec(s);
      if (!m) throw bad(field, type, value);
      return `${m[1]}:${m[2]}:${m[3]}`;
    }
    case 'BCD':
    case 'FLTP': {
      if (typeof value === 'number') return value;
      // RFC_READ_TABLE writes packed numbers the way WRITE does: sign trailing (`12.500-`).
      let s = String(value).trim();
      if (s === '') return null;
      if (s.endsWith('-')) s = `-${s.slice(0, -1).trim()}`;
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw bad(field, type, value);
      const n = Number(s);
      if (!Number.isFinite(n)) throw bad(field, type, value);
      return n;
    }
    case 'INT': {
      // INT4 and INT8: exact integers only (never '' as 0, '0x10' as 16, 2^64 or a rounded 2^53 + 1).
      if (typeof value === 'number') {
        if (!Number.isSafeInteger(value)) throw bad(field, type, value);
        return value;
      }
      let digits: string;
      if (typeof value === 'bigint') digits = value.toString();
      else {
        digits = value.trim();
        if (digits === '') return null;
        if (digits.endsWith('-')) digits = `-${digits.slice(0, -1).trim()}`;
        if (!/^[+-]?\d+$/.test(digits)) throw bad(field, type, value);
      }
      const n = BigInt(digits);
      if (n < INT8_MIN || n > INT8_MAX) throw bad(field, type, value);
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
    }
    default:
      throw new SourceDataError(`field ${field}: ${shown(type)} is not an ABAP type Aurora knows`, {
        details: { field, type: shown(type) },
      });
  }
}
