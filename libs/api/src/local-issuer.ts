import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Clock } from '@aurora/core';
import { UsageError } from '@aurora/core';
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTVerifyGetKey,
  SignJWT,
} from 'jose';
import { DEFAULT_FACILITY_CLAIM, ROLE_CLAIMS, type Role } from './auth.js';

/** The local issuer and audience (in Azure: AURORA_API_ISSUER / AURORA_API_AUDIENCE, Entra ID's). */
export const LOCAL_ISSUER = 'urn:aurora:local-issuer';
export const LOCAL_AUDIENCE = 'api://aurora';
const ALG = 'ES256';
type SigningKey = Awaited<ReturnType<typeof importJWK>>;

export const localKeyPath = (home: string): string => join(home, 'api', 'token-signing-key.json');

export interface TokenRequest {
  roles: readonly Role[];
  facilities?: readonly string[];
  subject?: string;
  /** Lifetime in seconds. */
  expiresInS?: number;
}

/**
 * Aurora's own token issuer for a laptop: an ES256 key pair kept in `$AURORA_HOME/api/` (mode 0600,
 * refused when readable by others, as ssh refuses a loose key), its public half served as a JWKS by the
 * local host, and tokens minted by `aurora token`.
 */
export class LocalIssuer {
  private constructor(
    private readonly privateKey: SigningKey,
    readonly publicJwk: JWK,
    private readonly clock: Clock,
  ) {}

  static async open(home: string, clock: Clock): Promise<LocalIssuer> {
    const file = localKeyPath(home);
    let jwk: JWK;
    try {
      const mode = (await stat(file)).mode & 0o777;
      if (mode & 0o077)
        throw new UsageError(`${file} is readable by others (mode ${mode.toString(8)}): chmod 600 it`);
      jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const { privateKey } = await generateKeyPair(ALG, { extractable: true });
      jwk = { ...(await exportJWK(privateKey)), alg: ALG, use: 'sig' };
      jwk.kid = await calculateJwkThumbprint(jwk);
      await mkdir(dirname(file), { recursive: true });
      try {
        await writeFile(file, `${JSON.stringify(jwk)}\n`, { mode: 0o600, flag: 'wx' });
        await chmod(file, 0o600);
      } catch (writeError) {
        // Another process created it first: use that one.
        if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
        return LocalIssuer.open(home, clock);
      }
    }
    const { d: _d, ...publicJwk } = jwk;
    const privateKey = await importJWK(jwk, ALG);
    return new LocalIssuer(privateKey, publicJwk, clock);
  }

  jwks(): JSONWebKeySet {
    return { keys: [this.publicJwk] };
  }

  #keys: JWTVerifyGetKey | undefined;

  /** The key set to verify with: one for the issuer's life, so jose imports the public key once. */
  keys(): JWTVerifyGetKey {
    this.#keys ??= createLocalJWKSet(this.jwks());
    return this.#keys;
  }

  async sign(request: TokenRequest): Promise<string> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const claims: Record<string, unknown> = { roles: request.roles.map((r) => ROLE_CLAIMS[r]) };
    if (request.facilities && request.facilities.length > 0)
      claims[DEFAULT_FACILITY_CLAIM] =
        request.facilities.length === 1 ? request.facilities[0] : [...request.facilities];
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: this.publicJwk.kid!, typ: 'JWT' })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setSubject(request.subject ?? `local:${request.roles.join('+')}`)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + (request.expiresInS ?? 3600))
      .sign(this.privateKey);
  }
}
