/**
 * Personal data on its way into the lake. Landing never holds a key: it hands each personal value to a
 * `Sealer` with the id of the person it belongs to and lands what comes back (`@aurora/privacy`'s KeyRing
 * is the one the platform passes: envelope encryption with a data key per data subject). These interfaces
 * are all the sources need of it, so that they do not depend on the privacy library.
 */

/** Seals personal data under its data subject's key. */
export interface Sealer {
  /**
   * The sealed text (`pd1.<keyId>.<payload>`: plain text that travels through Parquet, DuckDB and JSON),
   * or undefined when the subject was erased: its personal data is not collected again, the value lands
   * as null.
   */
  seal(subject: string, plaintext: string): Promise<string | undefined>;
}

/** What opening a sealed value gave: its plaintext, or that the subject was erased, or that no key is known. */
export type OpenedValue = { state: 'open'; value: string } | { state: 'erased' | 'unknown' };

/** Opens sealed values (`aurora erp verify-load` hashes the plaintext the source hashed). */
export interface Opener {
  open(sealed: string): Promise<OpenedValue>;
}

/** The shape of a sealed value: `pd1.`, a 22-character key id, a dot, the payload. */
const SEALED = /^pd1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/;

/** Whether a value is sealed personal data, by its shape (opening it authenticates it). */
export const isSealedValue = (value: unknown): value is string =>
  typeof value === 'string' && value.startsWith('pd1.') && SEALED.test(value);

const KIND = /^[a-z][a-z0-9-]{1,39}$/;
const ID = /^[^\s@]{1,200}$/;

/**
 * A data subject's id, `<kind>:<id in its system>` (`erp-party:10040`, `sap-user:BUYER01`), or undefined
 * when the system id is empty or cannot be one (blanks, an `@`): the caller then seals the value as
 * unattributed.
 */
export function subjectId(kind: string, id: string | null | undefined): string | undefined {
  if (!KIND.test(kind)) throw new Error(`"${kind}" is not a subject kind`);
  const text = id?.trim() ?? '';
  return text !== '' && ID.test(text) ? `${kind}:${text}` : undefined;
}

/** Personal data nobody can be named for (the row's subject key is empty): sealed under its origin. */
export const unattributedSubject = (system: 'erp' | 'sap', origin: string): string =>
  `${system}-unattributed:${origin.replace(/[\s@]+/g, '_')}`;

/** A raw value as the text that is sealed: strings as they are, typed redo values by their text. */
export function personalText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && typeof (value as { text?: unknown }).text === 'string')
    return (value as { text: string }).text;
  return JSON.stringify(value);
}
