import { describe, expect, it } from 'vitest';
import {
  ALERT_CATALOGUE,
  ALERT_CATEGORIES,
  DEAD_LETTER_THRESHOLDS_PER_HOUR,
  FRESHNESS_SLAS_S,
  HEALTH_WATCHED_TYPES,
} from './alert-catalogue.js';
import { FACILITIES } from './config.js';

const KNOWN_TABLES = ['AppRequests', 'AppTraces', 'AzureDiagnostics', 'StorageBlobLogs'];

describe('alert-catalogue', () => {
  it('holds the 47 rules of the design', () => {
    expect(ALERT_CATALOGUE).toHaveLength(47);
  });

  it('covers every category, with unique kebab-case ids', () => {
    const counts = Object.fromEntries(ALERT_CATEGORIES.map((c) => [c, 0]));
    for (const rule of ALERT_CATALOGUE) counts[rule.category] = (counts[rule.category] ?? 0) + 1;
    expect(counts).toEqual({
      'pipeline-failure': 11,
      'freshness-sla': 12,
      'dead-letter': 8,
      security: 8,
      'resource-health': 8,
    });
    const ids = ALERT_CATALOGUE.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('watches freshness of every source, facility and layer against its SLA', () => {
    for (const facility of FACILITIES) {
      expect(FRESHNESS_SLAS_S[`bronze/mes/${facility}`]).toBe(1800);
      expect(FRESHNESS_SLAS_S[`bronze/iot/${facility}`]).toBe(300);
    }
    for (const [dataset, slaS] of Object.entries(FRESHNESS_SLAS_S)) {
      const rule = ALERT_CATALOGUE.find((r) => r.id === `freshness-${dataset.replaceAll('/', '-')}`);
      expect(rule?.signal.kind).toBe('log');
      const query = rule?.signal.kind === 'log' ? rule.signal.query : '';
      expect(query).toContain(`== "${dataset}"`);
      // A breach is a lag above the SLA or no measurement at all.
      expect(query).toContain(`measurements == 0 or worstLagS > ${slaS}`);
    }
  });

  it('pages on dead letters per source and on unrouted IoT messages', () => {
    for (const source of Object.keys(DEAD_LETTER_THRESHOLDS_PER_HOUR)) {
      expect(ALERT_CATALOGUE.some((r) => r.id === `dead-letter-${source}`)).toBe(true);
    }
    const unrouted = ALERT_CATALOGUE.find((r) => r.id === 'dead-letter-iothub-unrouted');
    expect(unrouted?.signal).toMatchObject({
      kind: 'metric',
      target: 'iotHub',
      metricName: 'd2c.telemetry.egress.fallback',
    });
  });

  it('watches Resource Health of every PaaS type and Azure service incidents', () => {
    const health = ALERT_CATALOGUE.filter((r) => r.category === 'resource-health');
    expect(health.map((r) => r.id)).toEqual([
      ...Object.keys(HEALTH_WATCHED_TYPES).map((k) => `health-${k}`),
      'health-azure-service-incident',
    ]);
    for (const rule of health) {
      expect(rule.signal.kind).toBe('activity');
      if (rule.signal.kind === 'activity') {
        expect(rule.signal.allOf[0]).toEqual({
          field: 'category',
          equals: rule.id === 'health-azure-service-incident' ? 'ServiceHealth' : 'ResourceHealth',
        });
      }
    }
  });

  it('gives every log rule a query over a known table and a window no shorter than its frequency', () => {
    for (const rule of ALERT_CATALOGUE) {
      if (rule.signal.kind !== 'log') continue;
      const table = rule.signal.query.split('\n')[0];
      expect(KNOWN_TABLES, rule.id).toContain(table);
      expect(rule.signal.query, rule.id).toMatch(new RegExp(`ago\\(${rule.signal.windowMinutes}m\\)`));
      expect(rule.signal.windowMinutes).toBeGreaterThanOrEqual(rule.signal.frequencyMinutes);
      if (rule.signal.windowMinutes >= 1440) expect(rule.signal.frequencyMinutes).toBe(60);
    }
  });

  it('ranks security and resource health above pipeline noise', () => {
    const worst = (category: string) =>
      Math.min(...ALERT_CATALOGUE.filter((r) => r.category === category).map((r) => r.severity));
    expect(worst('security')).toBeLessThanOrEqual(1);
    expect(worst('resource-health')).toBeLessThanOrEqual(1);
    expect(
      Math.min(...ALERT_CATALOGUE.filter((r) => r.category === 'dead-letter').map((r) => r.severity)),
    ).toBe(3);
  });
});
