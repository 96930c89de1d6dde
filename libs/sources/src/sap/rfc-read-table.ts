import { SourceDataError } from '@aurora/core';
import { type AbapType, READ_TABLE_TYPES } from './abap-types.js';
import { tableOf } from './bapi-rows.js';
import type { RfcParameters, RfcStructure } from './rfc.js';

/** RFC_READ_TABLE returns each row in one WA of 512 characters (TAB512): wider rows raise DATA_BUFFER_EXCEEDED. */
export const READ_TABLE_ROW_WIDTH = 512;
/** OPTIONS-TEXT is 72 characters: a WHERE clause is split into lines of at most that. */
export const READ_TABLE_OPTION_WIDTH = 72;

/** Splits a WHERE clause into OPTIONS lines of at most 72 characters, between words (never inside a literal). */
export function readTableOptions(where: string): { TEXT: string }[] {
  const lines: string[] = [];
  let line = '';
  for (const word of where.split(/\s+/).filter(Boolean)) {
    if (word.length > READ_TABLE_OPTION_WIDTH)
      throw new Error(`RFC_READ_TABLE: "${word}" is longer than one OPTIONS line`);
    const next = line ? `${line} ${word}` : word;
    if (next.length > READ_TABLE_OPTION_WIDTH) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.map((TEXT) => ({ TEXT }));
}

/** The parameters of one RFC_READ_TABLE call. */
export function readTableRequest(
  table: string,
  fields: readonly string[],
  where: string,
  options: { delimiter?: string; rowCount?: number; rowSkips?: number } = {},
): RfcParameters {
  return {
    QUERY_TABLE: table,
    DELIMITER: options.delimiter ?? '|',
    ...(options.rowCount ? { ROWCOUNT: options.rowCount } : {}),
    ...(options.rowSkips ? { ROWSKIPS: options.rowSkips } : {}),
    OPTIONS: readTableOptions(where),
    FIELDS: fields.map((FIELDNAME) => ({ FIELDNAME })),
  };
}

export interface ReadTableField {
  name: string;
  offset: number;
  length: number;
  type: AbapType;
}

/**
 * The rows of an RFC_READ_TABLE result, as strings cut out of each WA by the FIELDS' OFFSET and LENGTH
 * (which already count the delimiters), with each field's ABAP type from FIELDS-TYPE. A row wider than
 * 512 characters, or a field reaching past the WA, is refused: the data would be cut off.
 */
export function parseReadTable(result: RfcStructure): {
  fields: ReadTableField[];
  rows: Record<string, string>[];
} {
  const fieldRows = tableOf(result, 'FIELDS', 'RFC_READ_TABLE');
  const fields = fieldRows.map((f) => {
    const name = String(f['FIELDNAME']).trim();
    const offset = Number(f['OFFSET']);
    const length = Number(f['LENGTH']);
    const typeCode = String(f['TYPE'] ?? 'C').trim();
    // Own keys only: a TYPE of `constructor` is no type, not Object.
    const type = Object.hasOwn(READ_TABLE_TYPES, typeCode) ? READ_TABLE_TYPES[typeCode]! : 'CHAR';
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length <= 0)
      throw new SourceDataError(
        `RFC_READ_TABLE: field ${name} has offset ${f['OFFSET']}, length ${f['LENGTH']}`,
        { details: { rfm: 'RFC_READ_TABLE', result } },
      );
    return { name, offset, length, type };
  });
  const width = fields.reduce((w, f) => Math.max(w, f.offset + f.length), 0);
  if (width > READ_TABLE_ROW_WIDTH)
    throw new SourceDataError(
      `RFC_READ_TABLE: the fields need ${width} characters per row, more than the ${READ_TABLE_ROW_WIDTH} of a WA; read fewer fields per call`,
      { details: { width, fields: fields.map((f) => f.name), rfm: 'RFC_READ_TABLE', result } },
    );
  const rows = tableOf(result, 'DATA', 'RFC_READ_TABLE').map((d, i) => {
    const wa = d['WA'] ?? '';
    if (typeof wa !== 'string')
      throw new SourceDataError(`RFC_READ_TABLE: DATA row ${i + 1} has a WA that is not text`, {
        details: { rfm: 'RFC_READ_TABLE', result },
      });
    if (wa.length > READ_TABLE_ROW_WIDTH)
      throw new SourceDataError(
        `RFC_READ_TABLE: DATA row ${i + 1} is ${wa.length} characters, more than a WA holds`,
        { details: { rfm: 'RFC_READ_TABLE', result } },
      );
    // fromEntries: a field named `__proto__` is a field, not the row's prototype.
    return Object.fromEntries(fields.map((f) => [f.name, wa.slice(f.offset, f.offset + f.length).trim()]));
  });
  return { fields, rows };
}
