import type { AuditEntry, AuditLog } from './audit.js';
import { SEALED_PREFIX } from './envelope.js';
import type { KeyRing } from './keyring.js';

/** Sealed values, whole or embedded in text (a quarantined row's JSON, a data-quality sample). */
const SEALED_TOKEN = new RegExp(
  `${SEALED_PREFIX.replace('.', '\\.')}([A-Za-z0-9_-]{22})\\.[A-Za-z0-9_-]+`,
  'g',
);

/** What a masked personal value looks like to a reader not allowed to see it. */
export const MASKED = '•••';

/** What an erased subject's value reads as (silver and gold drop them on the next run). */
export const ERASED = '[erased]';

/**
 * Seals the given columns of a landing row under the subject's key. Empty and null values stay as they
 * are; a value of an erased subject lands as null (it is not collected again). Returns the new row.
 */
export async function sealColumns<R extends Record<string, unknown>>(
  ring: KeyRing,
  row: R,
  columns: readonly string[],
  subject: string,
): Promise<R> {
  const out: Record<string, unknown> = { ...row };
  for (const column of columns) {
    const value = row[column];
    if (value === null || value === undefined || value === '') continue;
    const text = typeof value === 'string' ? value : String(value);
    out[column] = (await ring.seal(subject, text)) ?? null;
  }
  return out as R;
}

/** The key ids of the sealed values in a value (whole or embedded). */
export function keyIdsIn(value: unknown): string[] {
  if (typeof value !== 'string' || !value.includes(SEALED_PREFIX)) return [];
  return [...value.matchAll(SEALED_TOKEN)].map((m) => m[1]!);
}

/** Rows with every sealed value replaced by MASKED: for readers not allowed personal data. */
export function maskRows<R extends Record<string, unknown>>(rows: readonly R[]): R[] {
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row))
      out[k] = typeof v === 'string' && v.includes(SEALED_PREFIX) ? v.replace(SEALED_TOKEN, MASKED) : v;
    return out as R;
  });
}

export interface Reader {
  actor: string;
  roles: readonly string[];
  through: string;
}

/**
 * Rows with every sealed value opened, for a reader allowed personal data; values of erased subjects read
 * ERASED. Every subject whose data was opened gets an audit entry, written before the rows are returned:
 * a read that cannot be audited fails.
 */
export async function revealRows<R extends Record<string, unknown>>(
  rows: readonly R[],
  ring: KeyRing,
  audit: AuditLog,
  reader: Reader,
  extra: {
    action?: AuditEntry['action'];
    requestId?: string;
    /** Open only this subject's values; anyone else's in the same rows stay masked (a request shows one person). */
    onlyKeyId?: string;
  } = {},
): Promise<R[]> {
  const opened = new Map<string, number>();
  const out: R[] = [];
  for (const row of rows) {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) {
      if (typeof v !== 'string' || !v.includes(SEALED_PREFIX)) {
        copy[k] = v;
        continue;
      }
      let text = v;
      for (const match of v.matchAll(SEALED_TOKEN)) {
        if (extra.onlyKeyId !== undefined && match[1] !== extra.onlyKeyId) {
          text = match[0] === v ? MASKED : text.replace(match[0], MASKED);
          continue;
        }
        const result = await ring.open(match[0]);
        const plain = result.state === 'open' ? result.value : ERASED;
        if (result.state === 'open') opened.set(match[1]!, (opened.get(match[1]!) ?? 0) + 1);
        text = match[0] === v ? plain : text.replace(match[0], () => plain);
      }
      copy[k] = text;
    }
    out.push(copy as R);
  }
  await audit.record(
    [...opened].map(([keyId, values]) => ({
      actor: reader.actor,
      roles: reader.roles,
      through: reader.through,
      keyId,
      action: extra.action ?? 'read',
      values,
      ...(extra.requestId ? { requestId: extra.requestId } : {}),
    })),
  );
  return out;
}
