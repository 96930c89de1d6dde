import { createHmac, randomBytes } from 'node:crypto';
import { type Clock, UsageError } from '@aurora/core';
import { isSealed, openValue, sealedKeyId, sealValue } from './envelope.js';
import type { PrivacyKeys } from './kek.js';
import type { KeyTable } from './key-table.js';

/**
 * A data subject's id: `<kind>:<id in its system>`, e.g. `erp-party:50012`, `sap-vendor:0000100003`,
 * `sap-user:BUYER01`. System ids, never an e-mail address or a name.
 */
const SUBJECT = /^[a-z][a-z0-9-]{1,39}:[^\s@]{1,200}$/;

export function checkSubject(subject: string): string {
  if (!SUBJECT.test(subject))
    throw new UsageError(
      `"${subject}" is not a subject id: expected <kind>:<id in its system>, e.g. erp-party:50012 or sap-vendor:0000100003 (system ids, not e-mail addresses)`,
    );
  return subject;
}

/** What opening a sealed value gave: the plaintext, or why not. */
export type Opened =
  | { state: 'open'; value: string }
  | { state: 'erased'; keyId: string }
  | { state: 'unknown'; keyId: string | undefined };

export interface KeyRingOptions {
  keys: PrivacyKeys;
  table: KeyTable;
  clock: Clock;
  /** How long an unwrapped data key (or a tombstone) is trusted from memory; after an erasure in another process, at most this long. */
  cacheMs?: number;
}

type CachedKey = { at: number; key: Promise<Buffer | 'destroyed' | undefined> };

/**
 * Envelope encryption of personal data: one AES-256 data key per data subject, created on first use and
 * stored wrapped by the KEK in the key table, addressed by a key id derived from the subject id with a
 * keyed HMAC (so neither the lake nor the key table names the subject). Erasure destroys the data key:
 * every sealed value of the subject, wherever it was copied (bronze, its backups, silver), becomes
 * unreadable.
 */
export class KeyRing {
  readonly #options: KeyRingOptions;
  readonly #cache = new Map<string, CachedKey>();

  constructor(options: KeyRingOptions) {
    this.#options = options;
  }

  get kekDescription(): string {
    return this.#options.keys.kek.description;
  }

  /** The subject's key id: 22 base64url characters (128 bits of HMAC-SHA-256). */
  keyIdOf(subject: string): string {
    return createHmac('sha256', this.#options.keys.indexKey)
      .update(`aurora-subject:${checkSubject(subject)}`)
      .digest()
      .subarray(0, 16)
      .toString('base64url');
  }

  /**
   * Seals a value under the subject's key, creating the key on first use. Undefined when the subject has
   * been erased: its personal data is not collected again (the value lands as null).
   */
  async seal(subject: string, plaintext: string): Promise<string | undefined> {
    const keyId = this.keyIdOf(subject);
    const key = await this.#key(keyId, true);
    return key === 'destroyed' || key === undefined ? undefined : sealValue(key, keyId, plaintext);
  }

  /** Opens a sealed value; plain values are not accepted (a caller decides what a plain value means). */
  async open(sealed: string): Promise<Opened> {
    const keyId = sealedKeyId(sealed);
    if (keyId === undefined) return { state: 'unknown', keyId };
    const key = await this.#key(keyId, false);
    if (key === 'destroyed') return { state: 'erased', keyId };
    if (key === undefined) return { state: 'unknown', keyId };
    return { state: 'open', value: openValue(key, sealed) };
  }

  /** The state of a subject's key without creating it. */
  async state(subject: string): Promise<'active' | 'erased' | 'none'> {
    const record = await this.#options.table.get(this.keyIdOf(subject));
    return record === undefined ? 'none' : record.state === 'active' ? 'active' : 'erased';
  }

  /** Crypto-shredding: replaces the subject's data key by a tombstone. True when a key existed. */
  async destroy(subject: string, requestId: string): Promise<{ keyId: string; destroyed: boolean }> {
    const keyId = this.keyIdOf(subject);
    this.#cache.delete(keyId);
    const destroyed = await this.#options.table.destroy(keyId, {
      requestId,
      at: this.#options.clock.now(),
    });
    this.#cache.delete(keyId);
    return { keyId, destroyed };
  }

  destroyedKeyIds(): Promise<string[]> {
    return this.#options.table.destroyedKeyIds();
  }

  #key(keyId: string, create: boolean): Promise<Buffer | 'destroyed' | undefined> {
    const now = Date.now();
    const cached = this.#cache.get(keyId);
    if (cached && now - cached.at < (this.#options.cacheMs ?? 300_000)) return cached.key;
    const key = this.#load(keyId, create);
    this.#cache.set(keyId, { at: now, key });
    key.catch(() => this.#cache.delete(keyId));
    return key;
  }

  async #load(keyId: string, create: boolean): Promise<Buffer | 'destroyed' | undefined> {
    const { table, keys, clock } = this.#options;
    const record = await table.get(keyId);
    if (record?.state === 'destroyed') return 'destroyed';
    if (record?.state === 'active') return keys.kek.unwrap(record.key);
    if (!create) return undefined;
    const dataKey = randomBytes(32);
    if (await table.create(keyId, await keys.kek.wrap(dataKey), clock.now())) return dataKey;
    // Another writer created it first: use theirs.
    return this.#load(keyId, false);
  }
}

/** Values of a row that are sealed, by column. */
export const sealedColumns = (row: Record<string, unknown>): string[] =>
  Object.keys(row).filter((c) => isSealed(row[c]));
