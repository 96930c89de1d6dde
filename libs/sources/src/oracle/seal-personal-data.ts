import { UsageError } from '@aurora/core';
import { personalText, type Sealer, subjectId, unattributedSubject } from '../personal-data.js';
import type { BronzeValue } from './bronze-rows.js';
import type { PersonalData } from './erp-tables.js';

/**
 * Called for every row of a table that declares personal data, before the row is written to bronze
 * (CDC, first-run snapshot, watermark reads, full load); returns the row to land.
 */
export type ProtectHook = (
  context: { table: string; personal: PersonalData },
  row: Record<string, BronzeValue>,
) => Promise<Record<string, BronzeValue>>;

/** Every column a declaration may seal (the conditional ones included). */
export const personalColumns = (personal: PersonalData): string[] => [
  ...personal.columns,
  ...(personal.conditional ?? []).flatMap((c) => c.columns),
];

/** The columns that are personal data in this row: conditional ones unless their condition is known false. */
export function personalColumnsOfRow(
  personal: PersonalData,
  row: Readonly<Record<string, unknown>>,
): string[] {
  const out = [...personal.columns];
  for (const c of personal.conditional ?? []) {
    const value = personalText(row[c.when.column]);
    if (value === null || value === c.when.equals) out.push(...c.columns);
  }
  return out;
}

/** Whose the row's personal data is: `<subjectKind>:<subject key>`, or unattributed when the key is empty. */
export function erpSubjectOf(
  table: string,
  personal: PersonalData,
  row: Readonly<Record<string, unknown>>,
): { subject: string; attributed: boolean } {
  const subject = subjectId(personal.subjectKind, personalText(row[personal.subjectKey]));
  return subject
    ? { subject, attributed: true }
    : { subject: unattributedSubject('erp', table), attributed: false };
}

/**
 * The landing path's envelope encryption for the ERP: seals the declared personal columns of each row
 * under its subject's key (empty and null values stay as they are). A value of an erased subject lands as
 * null and its column is named in `_unavailable` (null here, not known to be null), so that verify-load
 * tells it from a changed row. Rows whose subject key is null are sealed as `erp-unattributed:<table>`
 * and reported through `onUnattributed`.
 */
export function erpProtectHook(
  sealer: Sealer,
  options: { onUnattributed?: (table: string) => void } = {},
): ProtectHook {
  return async ({ table, personal }, row) => {
    const out: Record<string, BronzeValue> = { ...row };
    const { subject, attributed } = erpSubjectOf(table, personal, row);
    const erased: string[] = [];
    let sealed = 0;
    for (const column of personalColumnsOfRow(personal, row)) {
      const value = row[column];
      if (value === null || value === undefined || value === '') continue;
      if (typeof value !== 'string')
        throw new UsageError(
          `${table}.${column} is declared personal data but lands as ${value instanceof Date ? 'a timestamp' : typeof value}: only text columns can be sealed (erp-tables.ts)`,
        );
      const text = await sealer.seal(subject, value);
      if (text === undefined) {
        out[column] = null;
        erased.push(column);
      } else out[column] = text;
      sealed++;
    }
    if (erased.length > 0) {
      const before =
        typeof row['_unavailable'] === 'string' && row['_unavailable'] ? [row['_unavailable']] : [];
      out['_unavailable'] = [...before, ...erased].join(',');
    }
    if (sealed > 0 && !attributed) options.onUnattributed?.(table);
    return out;
  };
}

/**
 * A raw record for a dead letter (a fetched row, a redo image) with its personal columns sealed as
 * landing would seal them (typed redo values by their text): dead letters are in the lake too.
 */
export async function sealErpRecord<R extends Readonly<Record<string, unknown>>>(
  sealer: Sealer,
  table: string,
  personal: PersonalData,
  record: R,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...record };
  const { subject } = erpSubjectOf(table, personal, record);
  for (const column of personalColumnsOfRow(personal, record)) {
    const text = personalText(record[column]);
    if (text === null || text === '') continue;
    out[column] = (await sealer.seal(subject, text)) ?? null;
  }
  return out;
}

/**
 * Free text of a table with personal data that cannot be taken apart (a SQL_REDO statement LogMiner
 * garbled): sealed whole as `erp-unattributed:<table>`, since its subject cannot be read from it.
 */
export async function sealErpText(sealer: Sealer, table: string, text: string): Promise<string | null> {
  return (await sealer.seal(unattributedSubject('erp', table), text)) ?? null;
}
