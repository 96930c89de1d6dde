import type { Clock } from '@aurora/core';
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { Lru } from './lru.js';
import { ApiProblem } from './problem.js';

/** The four roles, by the value their app role carries in the token's `roles` claim (Entra app roles). */
export const ROLE_CLAIMS = {
  'platform-admin': 'Aurora.PlatformAdmin',
  'data-engineer': 'Aurora.DataEngineer',
  analyst: 'Aurora.Analyst',
  viewer: 'Aurora.Viewer',
} as const;
export type Role = keyof typeof ROLE_CLAIMS;
export const ROLES = Object.keys(ROLE_CLAIMS) as Role[];

/** Display names, as ARCHITECTURE §4 names the roles. */
export const ROLE_NAMES: Record<Role, string> = {
  'platform-admin': 'Platform Admin',
  'data-engineer': 'Data Engineer',
  analyst: 'Analyst',
  viewer: 'Viewer',
};

/** The claim that restricts a caller to facilities: a facility id or a list of them; absent = every facility. */
export const DEFAULT_FACILITY_CLAIM = 'facility';

/** Who is calling, as the token says. */
export interface Principal {
  subject: string;
  roles: ReadonlySet<Role>;
  /** The facilities the caller may see; `all` without a facility claim. */
  facilities: readonly string[] | 'all';
}

export const canSeeFacility = (p: Principal, facility: string): boolean =>
  p.facilities === 'all' || p.facilities.includes(facility);

/**
 * The roles that may see personal data (customer contacts, supplier contact persons) in plaintext:
 * Analysts and Platform Admins (ARCHITECTURE §4, issue 8). Endpoints that return personal data open the
 * sealed values for them through libs/privacy's revealRows, which writes an audit entry per data subject
 * before the answer leaves; Data Engineers and Viewers get the same rows with every sealed value masked.
 */
export const PERSONAL_DATA_ROLES: readonly Role[] = ['analyst', 'platform-admin'];
export const canSeePersonalData = (p: Principal): boolean => PERSONAL_DATA_ROLES.some((r) => p.roles.has(r));

export interface VerifierOptions {
  issuer: string;
  audience: string;
  /** The issuer's keys: `createRemoteJWKSet(url)` for Entra ID, `createLocalJWKSet(jwks)` locally. */
  keys: JWTVerifyGetKey;
  clock: Clock;
  facilityClaim?: string;
  /** Seconds of clock skew allowed on exp/nbf. */
  clockToleranceS?: number;
  /**
   * Verified tokens remembered (by their whole text, signature included), so a caller's next requests skip
   * the signature check; expiry and not-before are checked on every use. Default 1,000; 0 = none.
   */
  verifiedTokens?: number;
  /** How long a remembered verification is trusted before the signature is checked again (default 600 s, as long as jose keeps a remote JWKS). */
  verifiedMaxAgeS?: number;
}

interface Verified {
  principal: Principal;
  exp: number;
  nbf: number | undefined;
  atMs: number;
}

export type TokenVerifier = (authorization: string | undefined) => Promise<Principal>;

const unauthorized = (code: string, detail: string) =>
  new ApiProblem(
    401,
    code,
    detail,
    {},
    {
      'www-authenticate': `Bearer realm="aurora", error="invalid_token", error_description="${detail.replaceAll('"', "'")}"`,
    },
  );

/**
 * Checks a bearer JWT: signature against the issuer's JWKS (asymmetric algorithms only, so `alg: none`
 * and HMAC tokens signed with a public key are refused), issuer, audience, expiry and not-before. Any
 * failure is a 401 naming what was wrong, never why the signature check failed internally.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const facilityClaim = options.facilityClaim ?? DEFAULT_FACILITY_CLAIM;
  const toleranceS = options.clockToleranceS ?? 60;
  const maxAgeMs = (options.verifiedMaxAgeS ?? 600) * 1000;
  const remembered =
    (options.verifiedTokens ?? 1000) > 0
      ? new Lru<string, Verified>(options.verifiedTokens ?? 1000)
      : undefined;
  return async (authorization) => {
    if (!authorization)
      throw new ApiProblem(
        401,
        'token.missing',
        'a bearer token is required',
        {},
        {
          'www-authenticate': 'Bearer realm="aurora"',
        },
      );
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization.trim());
    if (!match) throw unauthorized('token.malformed', 'the Authorization header is not "Bearer <JWT>"');
    const jwt = match[1]!;
    const nowMs = options.clock.now().getTime();
    const known = remembered?.get(jwt);
    if (known) {
      // jose's own checks, on the remembered claims: exp <= now - tolerance is expired, nbf > now + tolerance not yet valid.
      const nowS = Math.floor(nowMs / 1000);
      const fresh = nowMs - known.atMs < maxAgeMs && nowMs >= known.atMs;
      if (
        fresh &&
        known.exp > nowS - toleranceS &&
        !(known.nbf !== undefined && known.nbf > nowS + toleranceS)
      )
        return known.principal;
      remembered!.delete(jwt);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, options.keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384'],
        clockTolerance: toleranceS,
        currentDate: options.clock.now(),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw unauthorized('token.expired', 'the token has expired');
      if (error instanceof errors.JWTClaimValidationFailed)
        throw unauthorized('token.claims', `the token's ${error.claim} claim is not accepted`);
      if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey)
        throw unauthorized('token.signature', 'the token is not signed by the trusted issuer');
      if (error instanceof errors.JOSEAlgNotAllowed)
        throw unauthorized('token.algorithm', 'the token is signed with an algorithm that is not accepted');
      if (error instanceof errors.JOSEError) throw unauthorized('token.invalid', 'the token is not valid');
      throw error;
    }
    const roleClaims = Array.isArray(payload['roles']) ? (payload['roles'] as unknown[]) : [];
    const roles = new Set(ROLES.filter((r) => roleClaims.includes(ROLE_CLAIMS[r])));
    const rawFacility = payload[facilityClaim];
    const facilities =
      rawFacility === undefined
        ? 'all'
        : (Array.isArray(rawFacility) ? rawFacility : [rawFacility]).filter(
            (f): f is string => typeof f === 'string',
          );
    const principal: Principal = { subject: String(payload.sub), roles, facilities };
    remembered?.set(jwt, { principal, exp: payload.exp!, nbf: payload.nbf, atMs: nowMs });
    return principal;
  };
}
