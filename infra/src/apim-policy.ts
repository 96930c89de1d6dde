/**
 * The API's gateway contract as plain data: limits, caching and versioning that API Management enforces
 * in Azure and the local host applies on a laptop. No Pulumi here, so the local host can import it.
 */

/** Calls allowed per subscription key in one {@link RATE_LIMIT_PERIOD_S} window. */
export const RATE_LIMIT_CALLS = 1000;
/** The rate-limit window: one hour. */
export const RATE_LIMIT_PERIOD_S = 3600;
/** How long a GET response is served from the gateway cache. */
export const GET_CACHE_DURATION_S = 300;
/** Only these methods are cached. */
export const CACHED_METHODS = ['GET'] as const;
/**
 * Request headers that are part of the cache key. `Authorization` is essential: responses are filtered
 * by the caller's roles and facilities (row-level security), so two callers never share an entry.
 */
export const CACHE_VARY_BY_HEADERS = ['Accept', 'Authorization'] as const;

/** The API version as a path segment: `/api/v1/...`. */
export const API_VERSION = 'v1';
export const API_VERSION_PATH = `/${API_VERSION}`;
/** The API's path prefix at the gateway (and at the Functions host, whose route prefix is `api`). */
export const API_PATH = 'api';
export const API_BASE_PATH = `/${API_PATH}${API_VERSION_PATH}`;

/** Where a caller puts its subscription key. */
export const SUBSCRIPTION_KEY_HEADER = 'Ocp-Apim-Subscription-Key';
export const SUBSCRIPTION_KEY_QUERY = 'subscription-key';
/** Response headers that tell a caller where it stands against the limit. */
export const RATE_LIMIT_REMAINING_HEADER = 'X-RateLimit-Remaining';
export const RETRY_AFTER_HEADER = 'Retry-After';

export interface ApiPolicyOptions {
  calls?: number;
  renewalPeriodS?: number;
  cacheDurationS?: number;
}

/**
 * Query parameters that take part in the cache key. API Management ignores any query parameter not listed
 * here when it looks up the cache, so a GET carrying any other parameter bypasses the cache instead of
 * being answered from an entry made for different parameters. The API's own parameters (cursor
 * pagination, filters, field selection) belong in this list.
 */
export const CACHE_VARY_BY_QUERY_PARAMETERS = [
  'cursor',
  'limit',
  'fields',
  'from',
  'to',
  'facility_id',
  'machine_id',
  'shift',
  'granularity',
  'status',
  'severity',
  'sort',
] as const;

const escapeAttribute = (value: string) =>
  value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * Paths never answered from, nor stored in, the cache: answers holding personal data, each read of which
 * must reach the API to be audited, and data-subject requests. (The API also marks these answers
 * `Cache-Control: no-store`, which the outbound condition honours for any other path.)
 */
export const UNCACHED_PATHS = [`${API_BASE_PATH}/customers`, `${API_BASE_PATH}/privacy`] as const;

const requestCacheable = () => {
  const methods = CACHED_METHODS.map((m) => `context.Request.Method == "${m}"`).join(' || ');
  const known = [...CACHE_VARY_BY_QUERY_PARAMETERS, SUBSCRIPTION_KEY_QUERY].map((p) => `"${p}"`).join(', ');
  const uncached = UNCACHED_PATHS.map((p) => `"${p}"`).join(', ');
  return (
    `(${methods}) && context.Request.Url.Query.Keys.All(k => new[] { ${known} }.Contains(k))` +
    ` && !new[] { ${uncached} }.Any(p => context.Request.OriginalUrl.Path.StartsWith(p, StringComparison.OrdinalIgnoreCase))`
  );
};

/** The policy-expression condition under which a request may be answered from, and stored in, the cache. */
export function cacheableRequestCondition(): string {
  return `@(${requestCacheable()})`;
}

/** The condition under which a response is stored: a cacheable request whose answer does not say no-store. */
export function cacheableResponseCondition(): string {
  return `@(${requestCacheable()} && !context.Response.Headers.GetValueOrDefault("Cache-Control", "").Contains("no-store"))`;
}

/**
 * Renders the API-scope policy. `rate-limit-by-key` counts every call per subscription key, cached or not
 * (API Management rejects this policy on the Consumption tier, so the stack never uses that tier).
 * Responses to GET are cached for five minutes, per developer, per Authorization header (answers depend
 * on the caller's roles and facilities) and per listed query parameter. Policy expressions contain quotes,
 * so deploy this with format `rawxml`.
 */
export function renderApiPolicyXml(options: ApiPolicyOptions = {}): string {
  const calls = options.calls ?? RATE_LIMIT_CALLS;
  const renewalPeriodS = options.renewalPeriodS ?? RATE_LIMIT_PERIOD_S;
  const cacheDurationS = options.cacheDurationS ?? GET_CACHE_DURATION_S;
  for (const [name, value] of Object.entries({ calls, renewalPeriodS, cacheDurationS })) {
    if (!Number.isInteger(value) || value <= 0)
      throw new Error(`${name} must be a positive integer, got ${value}`);
  }
  const cacheable = escapeAttribute(cacheableRequestCondition());
  const storable = escapeAttribute(cacheableResponseCondition());
  const varyBy = [
    ...CACHE_VARY_BY_HEADERS.map((h) => `<vary-by-header>${h}</vary-by-header>`),
    ...CACHE_VARY_BY_QUERY_PARAMETERS.map((q) => `<vary-by-query-parameter>${q}</vary-by-query-parameter>`),
  ]
    .map((line) => `          ${line}`)
    .join('\n');
  return `<policies>
  <inbound>
    <base />
    <rate-limit-by-key calls="${calls}" renewal-period="${renewalPeriodS}" counter-key="@(context.Subscription.Key)" remaining-calls-header-name="${RATE_LIMIT_REMAINING_HEADER}" retry-after-header-name="${RETRY_AFTER_HEADER}" />
    <choose>
      <when condition="${cacheable}">
        <cache-lookup vary-by-developer="true" vary-by-developer-groups="false" allow-private-response-caching="true" downstream-caching-type="none" caching-type="internal">
${varyBy}
        </cache-lookup>
      </when>
    </choose>
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
    <choose>
      <when condition="${storable}">
        <cache-store duration="${cacheDurationS}" />
      </when>
    </choose>
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>
`;
}
