import type { Clock } from '@aurora/core';
import {
  CACHE_VARY_BY_HEADERS,
  CACHE_VARY_BY_QUERY_PARAMETERS,
  GET_CACHE_DURATION_S,
  RATE_LIMIT_CALLS,
  RATE_LIMIT_PERIOD_S,
  RATE_LIMIT_REMAINING_HEADER,
  SUBSCRIPTION_KEY_HEADER,
  SUBSCRIPTION_KEY_QUERY,
} from '@aurora/infra/apim-policy';
import { decodeJwt } from 'jose';
import { type ApiRequest, type ApiResponse, problemResponse } from './endpoint.js';
import { ApiProblem } from './problem.js';

export interface GatewayOptions {
  clock: Clock;
  /** Calls per key and period (APIM: 1,000 per hour). */
  calls?: number;
  periodS?: number;
  /** How long a GET answer is served from the cache; 0 = no cache. */
  cacheTtlS?: number;
  /** Entries kept at most; the oldest go first. */
  cacheEntries?: number;
}

/**
 * API Management's policy (infra/src/apim-policy.ts) applied on a laptop, so a partner meets the same
 * limits locally: `rate-limit-by-key` per subscription key (or, without one, per token subject or
 * anonymous), 429 with Retry-After when spent, and the 5-minute cache of GET answers keyed by path, the
 * listed query parameters, Accept and Authorization (a GET with any other parameter bypasses it). An
 * answer the backend marks `Cache-Control: no-store` (personal data) is never stored.
 */
export class LocalGateway {
  readonly #o: Required<Omit<GatewayOptions, 'clock'>> & { clock: Clock };
  readonly #windows = new Map<string, { startMs: number; count: number }>();
  readonly #cache = new Map<string, { expiresMs: number; response: ApiResponse }>();

  constructor(options: GatewayOptions) {
    this.#o = {
      clock: options.clock,
      calls: options.calls ?? RATE_LIMIT_CALLS,
      periodS: options.periodS ?? RATE_LIMIT_PERIOD_S,
      cacheTtlS: options.cacheTtlS ?? GET_CACHE_DURATION_S,
      cacheEntries: options.cacheEntries ?? 1000,
    };
  }

  /** Runs a request through the limits and the cache, then (if needed) the backend. */
  async handle(request: ApiRequest, backend: () => Promise<ApiResponse>): Promise<ApiResponse> {
    const nowMs = this.#o.clock.now().getTime();
    const key = rateKey(request);
    let window = this.#windows.get(key);
    if (!window || nowMs - window.startMs >= this.#o.periodS * 1000) {
      window = { startMs: nowMs, count: 0 };
      this.#windows.set(key, window);
    }
    window.count++;
    const remaining = Math.max(0, this.#o.calls - window.count);
    if (window.count > this.#o.calls) {
      const retryAfterS = Math.max(1, Math.ceil((window.startMs + this.#o.periodS * 1000 - nowMs) / 1000));
      return problemResponse(
        new ApiProblem(
          429,
          'rate_limit.exceeded',
          `at most ${this.#o.calls} calls per ${this.#o.periodS} s per subscription key`,
          {},
          {
            'retry-after': String(retryAfterS),
            [RATE_LIMIT_REMAINING_HEADER.toLowerCase()]: '0',
          },
        ),
      );
    }
    const limitHeaders = { [RATE_LIMIT_REMAINING_HEADER.toLowerCase()]: String(remaining) };
    const cacheKey = this.#o.cacheTtlS > 0 ? cacheKeyOf(request) : undefined;
    if (cacheKey) {
      const hit = this.#cache.get(cacheKey);
      if (hit && hit.expiresMs > nowMs)
        return { ...hit.response, headers: { ...hit.response.headers, ...limitHeaders, 'x-cache': 'HIT' } };
      if (hit) this.#cache.delete(cacheKey);
    }
    const response = await backend();
    if (cacheKey && response.status === 200 && !noStore(response)) {
      if (this.#cache.size >= this.#o.cacheEntries) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(cacheKey, { expiresMs: nowMs + this.#o.cacheTtlS * 1000, response });
    }
    return {
      ...response,
      headers: { ...response.headers, ...limitHeaders, ...(cacheKey ? { 'x-cache': 'MISS' } : {}) },
    };
  }
}

/** A backend answer marked `no-store` (personal data: each read must reach the handler and its audit). */
const noStore = (response: ApiResponse): boolean =>
  /(^|,)\s*no-store\s*(,|$)/i.test(response.headers['cache-control'] ?? '');

function rateKey(request: ApiRequest): string {
  const subscription =
    request.headers.get(SUBSCRIPTION_KEY_HEADER) ?? request.query.get(SUBSCRIPTION_KEY_QUERY);
  if (subscription) return `key:${subscription}`;
  const authorization = request.headers.get('authorization');
  if (authorization?.startsWith('Bearer ')) {
    try {
      // Only to pick the counter; the token is verified by the endpoint.
      const sub = decodeJwt(authorization.slice(7)).sub;
      if (sub) return `sub:${sub}`;
    } catch {
      // an undecodable token counts as anonymous
    }
  }
  return 'anonymous';
}

function cacheKeyOf(request: ApiRequest): string | undefined {
  if (request.method !== 'GET') return undefined;
  const url = new URL(request.url);
  const allowed = new Set<string>([...CACHE_VARY_BY_QUERY_PARAMETERS, SUBSCRIPTION_KEY_QUERY]);
  for (const k of url.searchParams.keys()) if (!allowed.has(k)) return undefined;
  const query = CACHE_VARY_BY_QUERY_PARAMETERS.map(
    (q) => `${q}=${url.searchParams.getAll(q).join(',')}`,
  ).join('&');
  const headers = CACHE_VARY_BY_HEADERS.map((h) => `${h}=${request.headers.get(h) ?? ''}`).join('\n');
  return `${url.pathname.toLowerCase()}?${query}\n${headers}`;
}
