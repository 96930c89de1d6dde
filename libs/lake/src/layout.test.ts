import { describe, expect, it } from 'vitest';
import { bronzePaths, fileTimestamp, parseBronzePath, reportPaths } from './layout.js';

const at = new Date('2026-03-29T01:05:09.042Z');

describe('bronzePaths', () => {
  it('builds the exact ARCHITECTURE paths for every source', () => {
    expect(bronzePaths.oracleErp('MTL_SYSTEM_ITEMS_B', at)).toBe(
      'bronze/oracle-erp/MTL_SYSTEM_ITEMS_B/year=2026/month=03/day=29/MTL_SYSTEM_ITEMS_B_20260329T010509042000Z.parquet',
    );
    expect(bronzePaths.sap('BAPI_PO_GETDETAIL', at, 7)).toBe(
      'bronze/sap/BAPI_PO_GETDETAIL/year=2026/month=03/day=29/BAPI_PO_GETDETAIL_20260329T010509042007Z.parquet',
    );
    expect(bronzePaths.mes('augsburg', 'production_orders', at)).toBe(
      'bronze/mes/augsburg/production_orders/year=2026/month=03/day=29/production_orders_20260329T010509042000Z.parquet',
    );
  });

  it('partitions IoT by the event hour, not by the extraction time', () => {
    const eventHour = new Date('2026-03-28T23:59:59.999Z');
    expect(bronzePaths.iot('regensburg', eventHour, at)).toBe(
      'bronze/iot/regensburg/year=2026/month=03/day=28/hour=23/telemetry_20260329T010509042000Z.parquet',
    );
  });

  it('uses UTC even across the plant’s clock change', () => {
    // 2026-03-29 01:00 UTC is when Berlin jumps from 02:00 to 03:00 local time.
    expect(fileTimestamp(new Date('2026-03-29T00:59:59.999Z'))).toBe('20260329T005959999000Z');
    expect(bronzePaths.iot('augsburg', new Date('2026-10-25T00:30:00Z'), at)).toContain('/day=25/hour=00/');
  });

  it('refuses segments that would escape the layout', () => {
    expect(() => bronzePaths.mes('../silver', 'x', at)).toThrow(/invalid facility/);
    expect(() => bronzePaths.oracleErp('a/b', at)).toThrow(/invalid table/);
    expect(() => bronzePaths.sap('', at)).toThrow(/invalid bapi/);
  });

  it('parses what it builds', () => {
    expect(parseBronzePath(bronzePaths.iot('ingolstadt', at, at))).toEqual({
      source: 'iot',
      facility: 'ingolstadt',
      entity: 'telemetry',
      partition: { year: 2026, month: 3, day: 29, hour: 1 },
    });
    expect(parseBronzePath(bronzePaths.mes('augsburg', 'orders', at))).toMatchObject({
      source: 'mes',
      entity: 'orders',
    });
    expect(parseBronzePath(bronzePaths.deadLetter('iot', at))).toMatchObject({
      source: 'deadletter',
      entity: 'iot',
    });
    expect(parseBronzePath('bronze/iot/augsburg/x.parquet')).toBeUndefined();
    expect(
      parseBronzePath('bronze/sap/A/year=2026/month=01/day=01/B_20260101T000000000000Z.parquet'),
    ).toBeUndefined();
  });
});

describe('reportPaths', () => {
  it('puts each migration report under reports/ by the UTC day of the run, named by its timestamp', () => {
    expect(reportPaths.reconcile(at)).toBe(
      'reports/reconcile/year=2026/month=03/day=29/reconcile_20260329T010509042000Z.json',
    );
    expect(reportPaths.erpVerifyLoad(new Date('2026-12-31T23:59:59.999Z'), 3)).toBe(
      'reports/erp-verify-load/year=2026/month=12/day=31/verify-load_20261231T235959999003Z.json',
    );
  });
});
