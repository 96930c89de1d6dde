import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { OpenedValue, Opener, Sealer } from './personal-data.js';

/**
 * For tests of the landing path: a key ring in memory with the contract of `@aurora/privacy`'s KeyRing
 * (AES-256-GCM per subject, `pd1.<keyId>.<payload>`, erasure destroys the key so that seal gives undefined
 * and open 'erased'), without its key table and KEK. It remembers which subject each value was sealed for.
 */
export class TestKeyRing implements Sealer, Opener {
  readonly #keys = new Map<string, Buffer | 'erased'>();
  /** Key id -> subject, for assertions. */
  readonly subjects = new Map<string, string>();

  keyIdOf(subject: string): string {
    return createHash('sha256').update(subject).digest().subarray(0, 16).toString('base64url');
  }

  async seal(subject: string, plaintext: string): Promise<string | undefined> {
    if (!/^[a-z][a-z0-9-]{1,39}:[^\s@]{1,200}$/.test(subject))
      throw new Error(`"${subject}" is not a subject id`);
    const keyId = this.keyIdOf(subject);
    let key = this.#keys.get(keyId);
    if (key === 'erased') return undefined;
    if (!key) {
      key = randomBytes(32);
      this.#keys.set(keyId, key);
      this.subjects.set(keyId, subject);
    }
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`pd1.${keyId}`));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `pd1.${keyId}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  async open(sealed: string): Promise<OpenedValue> {
    const keyId = sealed.slice(4, 26);
    const key = this.#keys.get(keyId);
    if (key === 'erased') return { state: 'erased' };
    if (!key) return { state: 'unknown' };
    const raw = Buffer.from(sealed.slice(27), 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(`pd1.${keyId}`));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const value = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    return { state: 'open', value: value.toString('utf8') };
  }

  /** Crypto-shredding, as a privacy delete request does it. */
  erase(subject: string): void {
    this.#keys.set(this.keyIdOf(subject), 'erased');
  }

  /** A row with every sealed value opened (values of erased subjects as null). */
  async openRow<R extends Record<string, unknown>>(row: R): Promise<R> {
    const out: Record<string, unknown> = { ...row };
    for (const [k, v] of Object.entries(row))
      if (typeof v === 'string' && v.startsWith('pd1.')) {
        const opened = await this.open(v);
        out[k] = opened.state === 'open' ? opened.value : null;
      }
    return out as R;
  }

  /** The subject a sealed value was sealed for. */
  subjectOf(sealed: unknown): string | undefined {
    return typeof sealed === 'string' ? this.subjects.get(sealed.slice(4, 26)) : undefined;
  }
}
