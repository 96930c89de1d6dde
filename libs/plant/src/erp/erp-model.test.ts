import { describe, expect, it } from 'vitest';
import { MATERIAL_SUPPLY } from '../parties.js';
import { PlantModel } from '../plant-model.js';
import { EBS_TABLES, ebsTable } from './ebs-tables.js';
import { ErpModel, inventoryItemId } from './erp-model.js';

const at = Date.parse('2026-11-23T08:00:00Z');
const erp = new ErpModel(new PlantModel({ seed: 1 }));

describe('ErpModel', () => {
  it('holds items per organization with the MES material ids and the supply limits', () => {
    const items = erp.masterData(at)['INV.MTL_SYSTEM_ITEMS_B']!;
    const bracket = items.find((r) => r['SEGMENT1'] === 'AUR-10011' && r['ORGANIZATION_ID'] === 101)!;
    const supply = MATERIAL_SUPPLY.find((s) => s.material.id === 'AUR-10011')!;
    expect(bracket['INVENTORY_ITEM_ID']).toBe(inventoryItemId('AUR-10011'));
    expect(bracket['MIN_MINMAX_QUANTITY']).toBe(supply.minStock);
    expect(bracket['MAX_MINMAX_QUANTITY']).toBe(supply.maxStock);
    expect(items).toHaveLength(24 * 4);
  });

  it('gives the same transactions for a window as for its two halves', () => {
    const whole = erp.transactions(at - 4 * 3_600_000, at).map((t) => t.id);
    const halves = [
      ...erp.transactions(at - 4 * 3_600_000, at - 2 * 3_600_000),
      ...erp.transactions(at - 2 * 3_600_000, at),
    ].map((t) => t.id);
    expect(halves).toEqual(whole);
    expect(new Set(whole).size).toBe(whole.length);
  });

  it('releases and completes WIP jobs named after the MES orders, with rollbacks and deletes now and then', () => {
    const txs = erp.transactions(at - 72 * 3_600_000, at);
    const release = txs.find((t) => t.id.startsWith('wip-release:'))!;
    const job = release.ops.find((o) => o.kind === 'insert' && o.table === 'WIP.WIP_ENTITIES');
    expect(job?.kind === 'insert' && job.row['WIP_ENTITY_NAME']).toBe(
      release.id.slice('wip-release:'.length),
    );
    expect(txs.some((t) => t.outcome === 'rollback')).toBe(true);
    expect(txs.some((t) => t.ops.some((o) => o.kind === 'delete'))).toBe(true);
    // Every table an op names exists, and every inserted column is one of its columns.
    for (const t of txs)
      for (const op of t.ops) {
        if (op.kind !== 'insert') continue;
        const table = ebsTable(op.table)!;
        expect(Object.keys(op.row).every((c) => table.columns.some((x) => x.name === c))).toBe(true);
      }
  });

  it('declares WHO columns on every table', () => {
    for (const t of EBS_TABLES)
      expect(t.columns.map((c) => c.name)).toEqual(
        expect.arrayContaining(['CREATED_BY', 'LAST_UPDATE_DATE']),
      );
  });
});
