import { ManualClock } from '@aurora/core';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTVerifyGetKey, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from './auth.js';
import { ApiProblem } from './problem.js';

const ISSUER = 'urn:test';
const AUDIENCE = 'api://test';

async function setup(options: { verifiedTokens?: number; verifiedMaxAgeS?: number } = {}) {
  const clock = new ManualClock(new Date('2026-11-23T08:00:00Z'));
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'k1' }] });
  let keyLookups = 0;
  const keys: JWTVerifyGetKey = (header, token) => {
    keyLookups++;
    return jwks(header, token);
  };
  const verify = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys, clock, ...options });
  const sign = (claims: Record<string, unknown>, expiresInS = 600) => {
    const now = Math.floor(clock.now().getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('someone')
      .setIssuedAt(now)
      .setExpirationTime(now + expiresInS)
      .sign(privateKey);
  };
  return { clock, verify, sign, lookups: () => keyLookups };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof ApiProblem ? e.code : String(e)),
  );

describe('createTokenVerifier: remembered verifications', () => {
  it('checks a token signature once; repeated requests reuse the verified principal', async () => {
    const { verify, sign, lookups } = await setup();
    const token = await sign({ roles: ['Aurora.Analyst'], facility: 'augsburg' });
    const first = await verify(`Bearer ${token}`);
    const second = await verify(`Bearer ${token}`);
    expect(second).toBe(first);
    expect(first).toMatchObject({ subject: 'someone', facilities: ['augsburg'] });
    expect([...first.roles]).toEqual(['analyst']);
    expect(lookups()).toBe(1);
  });

  it('a remembered token still expires: 401 token.expired past exp and the clock tolerance', async () => {
    const { clock, verify, sign } = await setup();
    const token = await sign({ roles: ['Aurora.Viewer'] }, 120);
    await verify(`Bearer ${token}`);
    clock.advance(120_000 + 59_000);
    expect(await codeOf(verify(`Bearer ${token}`))).toBe('ok'); // within the 60 s tolerance
    clock.advance(2_000);
    expect(await codeOf(verify(`Bearer ${token}`))).toBe('token.expired');
  });

  it('a token differing in its signature is verified on its own and refused', async () => {
    const { verify, sign } = await setup();
    const token = await sign({ roles: ['Aurora.PlatformAdmin'] });
    await verify(`Bearer ${token}`);
    const [h, p, s] = token.split('.') as [string, string, string];
    const forged = `${h}.${p}.${s.startsWith('A') ? `B${s.slice(1)}` : `A${s.slice(1)}`}`;
    expect(await codeOf(verify(`Bearer ${forged}`))).toBe('token.signature');
    // Claims changed under the same signature are not the remembered token either.
    const elevated = Buffer.from(
      JSON.stringify({
        sub: 'someone',
        roles: ['Aurora.PlatformAdmin'],
        aud: AUDIENCE,
        iss: ISSUER,
        exp: 4_102_444_800,
      }),
    ).toString('base64url');
    expect(await codeOf(verify(`Bearer ${h}.${elevated}.${s}`))).toBe('token.signature');
  });

  it('checks the signature again after verifiedMaxAgeS, and every time with verifiedTokens 0', async () => {
    const aged = await setup({ verifiedMaxAgeS: 60 });
    const token = await aged.sign({ roles: ['Aurora.Viewer'] });
    await aged.verify(`Bearer ${token}`);
    aged.clock.advance(30_000);
    await aged.verify(`Bearer ${token}`);
    expect(aged.lookups()).toBe(1);
    aged.clock.advance(31_000);
    await aged.verify(`Bearer ${token}`);
    expect(aged.lookups()).toBe(2);

    const off = await setup({ verifiedTokens: 0 });
    const t = await off.sign({ roles: ['Aurora.Viewer'] });
    await off.verify(`Bearer ${t}`);
    await off.verify(`Bearer ${t}`);
    expect(off.lookups()).toBe(2);
  });
});
