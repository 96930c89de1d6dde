import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isSealed, openValue, SealedValueError, sealedKeyId, sealValue } from './envelope.js';
import { localPrivacyKeys } from './kek.js';
import { keyIdsIn, MASKED, maskRows } from './personal.js';

const KEY_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const OTHER_ID = 'BBBBBBBBBBBBBBBBBBBBBB';

describe('sealed values', () => {
  const key = randomBytes(32);

  it('round-trip any text, including empty-looking, unicode and very long values', () => {
    for (const text of [
      ' ',
      'Müller',
      "O'Brien",
      '+49 821 1234567',
      '😀'.repeat(1000),
      'x'.repeat(100_000),
      '\u0000',
    ]) {
      const sealed = sealValue(key, KEY_ID, text);
      expect(isSealed(sealed)).toBe(true);
      expect(sealedKeyId(sealed)).toBe(KEY_ID);
      expect(sealed).not.toContain(text.slice(0, 20).trim() || '\u0001');
      expect(openValue(key, sealed)).toBe(text);
    }
  });

  it('differ each time the same value is sealed (random IV), so equal values cannot be linked', () => {
    expect(sealValue(key, KEY_ID, 'anna@example.com')).not.toBe(sealValue(key, KEY_ID, 'anna@example.com'));
  });

  it('refuse a flipped bit, a value moved to another key id, another key and truncation', () => {
    const sealed = sealValue(key, KEY_ID, 'anna@example.com');
    const payload = sealed.slice(27);
    const flipped = Buffer.from(payload, 'base64url');
    flipped[14] = flipped[14]! ^ 1;
    expect(() => openValue(key, `pd1.${KEY_ID}.${flipped.toString('base64url')}`)).toThrow(SealedValueError);
    expect(() => openValue(key, `pd1.${OTHER_ID}.${payload}`)).toThrow(/fails authentication/);
    expect(() => openValue(randomBytes(32), sealed)).toThrow(/fails authentication/);
    expect(() => openValue(key, `pd1.${KEY_ID}.AAAA`)).toThrow(/truncated/);
    expect(() => openValue(key, 'anna@example.com')).toThrow(/not a sealed value/);
  });

  it('are recognised by shape only when the key id is well formed', () => {
    expect(sealedKeyId('pd1.short.x')).toBeUndefined();
    expect(sealedKeyId(`pd1.${KEY_ID}x.payload`)).toBeUndefined();
    expect(sealedKeyId(42)).toBeUndefined();
    expect(() => sealValue(key, '../etc/passwd', 'x')).toThrow(/not a key id/);
  });

  it('are masked whole or inside text, and their key ids found there', () => {
    const a = sealValue(key, KEY_ID, 'Anna');
    const b = sealValue(key, OTHER_ID, 'anna@example.com');
    const json = JSON.stringify({ first: a, email: b, plant: 'AUG' });
    expect(keyIdsIn(json)).toEqual([KEY_ID, OTHER_ID]);
    const [masked] = maskRows([{ first: a, row: json, n: 3, none: null }]);
    expect(masked).toEqual({
      first: MASKED,
      row: JSON.stringify({ first: MASKED, email: MASKED, plant: 'AUG' }),
      n: 3,
      none: null,
    });
  });
});

describe('the local key-encryption key', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const temp = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aurora-kek-'));
    dirs.push(dir);
    return join(dir, 'keys', 'privacy.json');
  };

  it('is created once (mode 0600), shared by concurrent openers, and wraps and unwraps data keys', async () => {
    const file = await temp();
    const [a, b] = await Promise.all([localPrivacyKeys(file), localPrivacyKeys(file)]);
    expect(a.indexKey.equals(b.indexKey)).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const dataKey = randomBytes(32);
    const wrapped = await a.kek.wrap(dataKey);
    expect(wrapped.wrapped.length).toBe(40);
    expect(wrapped.wrapped.includes(dataKey)).toBe(false);
    expect((await b.kek.unwrap(wrapped)).equals(dataKey)).toBe(true);
    const again = await localPrivacyKeys(file);
    expect((await again.kek.unwrap(wrapped)).equals(dataKey)).toBe(true);
  });

  it('refuses to unwrap with a replaced key file, and names a damaged one', async () => {
    const file = await temp();
    const keys = await localPrivacyKeys(file);
    const wrapped = await keys.kek.wrap(randomBytes(32));
    const other = await localPrivacyKeys(await temp());
    await expect(other.kek.unwrap(wrapped)).rejects.toThrow(/no key-encryption key/);
    const tampered = { ...wrapped, wrapped: Buffer.from(wrapped.wrapped) };
    tampered.wrapped[3] = tampered.wrapped[3]! ^ 0xff;
    await expect(keys.kek.unwrap(tampered)).rejects.toThrow(/does not unwrap/);
    const text = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...text, indexKey: 'c2hvcnQ=' }));
    await expect(localPrivacyKeys(file)).rejects.toThrow(/privacy key file .* unusable: indexKey/);
    await writeFile(file, '{not json');
    await expect(localPrivacyKeys(file)).rejects.toThrow(/not JSON/);
  });
});
