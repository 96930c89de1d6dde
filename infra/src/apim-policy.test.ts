import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  API_BASE_PATH,
  API_VERSION_PATH,
  CACHE_VARY_BY_HEADERS,
  CACHE_VARY_BY_QUERY_PARAMETERS,
  cacheableRequestCondition,
  cacheableResponseCondition,
  GET_CACHE_DURATION_S,
  RATE_LIMIT_CALLS,
  RATE_LIMIT_PERIOD_S,
  renderApiPolicyXml,
} from './apim-policy.js';

/** Element names in document order, checking that every element is closed in the right order. */
function elementsOf(xml: string): string[] {
  const open: string[] = [];
  const seen: string[] = [];
  for (const [, closing, name, selfClosing] of xml.matchAll(/<(\/?)([a-z-]+)(?:\s[^>]*?)?(\/?)>/g)) {
    if (closing) {
      const expected = open.pop();
      if (expected !== name) throw new Error(`</${name}> closes <${expected}>`);
    } else {
      seen.push(name!);
      if (!selfClosing) open.push(name!);
    }
  }
  if (open.length > 0) throw new Error(`unclosed: ${open.join(', ')}`);
  return seen;
}

const attribute = (xml: string, element: string, name: string) =>
  new RegExp(`<${element}\\b[^>]*\\s${name}="([^"]*)"`).exec(xml)?.[1];

describe('apim-policy', () => {
  it('states the contract: 1,000 calls per hour per key, 5-minute GET cache, /v1 in the path', () => {
    expect(RATE_LIMIT_CALLS).toBe(1000);
    expect(RATE_LIMIT_PERIOD_S).toBe(3600);
    expect(GET_CACHE_DURATION_S).toBe(300);
    expect(API_VERSION_PATH).toBe('/v1');
    expect(API_BASE_PATH).toBe('/api/v1');
  });

  it('renders well-formed policy XML with the four sections in order', () => {
    const elements = elementsOf(renderApiPolicyXml());
    expect(elements[0]).toBe('policies');
    const sections = elements.filter((e) => ['inbound', 'backend', 'outbound', 'on-error'].includes(e));
    expect(sections).toEqual(['inbound', 'backend', 'outbound', 'on-error']);
  });

  it('rate-limits by subscription key, 1,000 calls per 3,600 s', () => {
    const xml = renderApiPolicyXml();
    expect(attribute(xml, 'rate-limit-by-key', 'calls')).toBe('1000');
    expect(attribute(xml, 'rate-limit-by-key', 'renewal-period')).toBe('3600');
    expect(attribute(xml, 'rate-limit-by-key', 'counter-key')).toBe('@(context.Subscription.Key)');
    // Counted before the cache lookup, so cached answers count against the limit too.
    expect(xml.indexOf('<rate-limit-by-key')).toBeLessThan(xml.indexOf('<cache-lookup'));
  });

  it('caches only GET, for 300 s, keyed per caller and per query parameter', () => {
    const xml = renderApiPolicyXml();
    expect(attribute(xml, 'cache-store', 'duration')).toBe('300');
    expect(attribute(xml, 'cache-lookup', 'vary-by-developer')).toBe('true');
    expect(attribute(xml, 'cache-lookup', 'allow-private-response-caching')).toBe('true');
    const headers = [...xml.matchAll(/<vary-by-header>([^<]+)<\/vary-by-header>/g)].map((m) => m[1]);
    expect(headers).toEqual([...CACHE_VARY_BY_HEADERS]);
    expect(headers).toContain('Authorization');
    const params = [...xml.matchAll(/<vary-by-query-parameter>([^<]+)<\/vary-by-query-parameter>/g)].map(
      (m) => m[1],
    );
    expect(params).toEqual([...CACHE_VARY_BY_QUERY_PARAMETERS]);
    expect(params).toEqual(expect.arrayContaining(['cursor', 'limit', 'fields']));
    // Both the lookup and the store sit behind the same GET-only request condition (the store adds no-store).
    const conditions = [...xml.matchAll(/<when condition="([^"]+)">/g)].map((m) => m[1]!);
    expect(conditions).toHaveLength(2);
    expect(conditions[1]!.startsWith(conditions[0]!.slice(0, -1))).toBe(true);
    expect(conditions[0]).toContain('context.Request.Method == &quot;GET&quot;');
    expect(conditions[0]).not.toContain('POST');
  });

  it('never caches personal data (customers, privacy requests) nor any answer marked no-store', () => {
    for (const condition of [cacheableRequestCondition(), cacheableResponseCondition()]) {
      expect(condition).toContain('"/api/v1/customers", "/api/v1/privacy"');
      expect(condition).toContain('!new[] {');
      expect(condition).toContain(
        'context.Request.OriginalUrl.Path.StartsWith(p, StringComparison.OrdinalIgnoreCase)',
      );
    }
    expect(cacheableResponseCondition()).toMatch(
      /!context\.Response\.Headers\.GetValueOrDefault\("Cache-Control", ""\)\.Contains\("no-store"\)\)$/,
    );
    const xml = renderApiPolicyXml();
    const store = /<when condition="([^"]*)">\s*<cache-store/.exec(xml)?.[1];
    expect(store).toContain('no-store');
    const lookup = /<when condition="([^"]*)">\s*<cache-lookup/.exec(xml)?.[1];
    expect(lookup).toContain('/api/v1/customers');
  });

  it('lets requests with unlisted query parameters bypass the cache', () => {
    const condition = cacheableRequestCondition();
    expect(condition).toMatch(/Query\.Keys\.All\(k => new\[\] \{ .*"cursor".*\}\.Contains\(k\)\)/);
    expect(condition).toContain('"subscription-key"');
  });

  it('renders other limits on request and rejects nonsense', () => {
    const xml = renderApiPolicyXml({ calls: 10, renewalPeriodS: 60, cacheDurationS: 30 });
    expect(attribute(xml, 'rate-limit-by-key', 'calls')).toBe('10');
    expect(attribute(xml, 'cache-store', 'duration')).toBe('30');
    expect(() => renderApiPolicyXml({ calls: 0 })).toThrow(/calls must be a positive integer/);
    expect(() => renderApiPolicyXml({ cacheDurationS: 2.5 })).toThrow(/cacheDurationS/);
  });

  it('stays free of Pulumi so the local host can import it', () => {
    const source = readFileSync(new URL('./apim-policy.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/from ['"]@pulumi\//);
    expect(source).not.toMatch(/^import /m);
  });
});
