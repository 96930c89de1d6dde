import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AuroraError } from '@aurora/core';

/**
 * Sealed personal data as it is stored in the lake: `pd1.<keyId>.<payload>`, where `keyId` names the
 * data subject's key (pseudonymous, see SubjectIndex) and `payload` is base64url of IV (12 bytes),
 * AES-256-GCM ciphertext and tag (16 bytes). The prefix and key id are the additional authenticated
 * data, so a value cannot be moved to another subject's key id unnoticed. A sealed value is plain text
 * (it travels through Parquet, DuckDB and JSON unchanged) and carries everything a reader needs to find
 * its key: no side columns.
 */
export const SEALED_PREFIX = 'pd1.';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{22}$/;

export class SealedValueError extends AuroraError {
  constructor(message: string) {
    super('lake.corrupt', message);
  }
}

/** Whether a value is sealed personal data (by shape; `openValue` authenticates it). */
export const isSealed = (value: unknown): value is string =>
  typeof value === 'string' && value.startsWith(SEALED_PREFIX);

/** The key id of a sealed value, or undefined when the value is not sealed. */
export function sealedKeyId(value: unknown): string | undefined {
  if (!isSealed(value)) return undefined;
  const keyId = value.slice(SEALED_PREFIX.length, SEALED_PREFIX.length + 22);
  return KEY_ID.test(keyId) && value[SEALED_PREFIX.length + 22] === '.' ? keyId : undefined;
}

export function sealValue(dataKey: Buffer, keyId: string, plaintext: string): string {
  if (!KEY_ID.test(keyId)) throw new SealedValueError(`"${keyId}" is not a key id`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(Buffer.from(`${SEALED_PREFIX}${keyId}`));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const payload = Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  return `${SEALED_PREFIX}${keyId}.${payload}`;
}

/** The plaintext of a sealed value; a SealedValueError when it is malformed or was altered. */
export function openValue(dataKey: Buffer, sealed: string): string {
  const keyId = sealedKeyId(sealed);
  if (keyId === undefined) throw new SealedValueError('not a sealed value');
  const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length + 23), 'base64url');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SealedValueError('sealed value is truncated');
  const decipher = createDecipheriv('aes-256-gcm', dataKey, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(`${SEALED_PREFIX}${keyId}`));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SealedValueError(
      `sealed value for key ${keyId} fails authentication (altered, or another key)`,
    );
  }
}
