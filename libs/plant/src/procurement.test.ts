import { describe, expect, it } from 'vitest';
import { PlantModel } from './plant-model.js';
import { addPlantDays, daysBetween, ProcurementModel, SAP_PLANTS } from './procurement.js';
import { plantDayBounds } from './shift-calendar.js';

const model = new ProcurementModel(new PlantModel({ seed: 1 }));
const MONDAY = '2026-11-23';

describe('ProcurementModel', () => {
  it('orders per plant, supplier and delivery day exactly what that day’s production orders consume, lead time ahead', () => {
    const pos = model.purchaseOrdersCreatedOn('2026-11-16');
    expect(pos.length).toBeGreaterThan(10);
    for (const po of pos) {
      expect(po.poNumber).toMatch(/^45000\d{5}$/);
      expect(po.plant).toBe(SAP_PLANTS[po.facilityId]);
      expect(daysBetween(po.createdOn, po.deliveryDay)).toBe(po.supplier.leadTimeDays);
      expect(model.purchaseOrder(po.poNumber)).toEqual(po);
      for (const item of po.items) {
        expect(item.material.id).toMatch(/^AUR-\d{5}$/);
        expect(item.supply.supplier).toBe(po.supplier);
        expect(item.quantity).toBe(model.consumption(po.facilityId, item.material.id, po.deliveryDay));
        const issued = model
          .goodsIssues(po.facilityId, po.deliveryDay)
          .filter((g) => g.material.id === item.material.id)
          .reduce((n, g) => n + g.quantity, 0);
        expect(issued).toBe(item.quantity);
      }
    }
    expect(new Set(pos.map((p) => p.poNumber)).size).toBe(pos.length);
  });

  it('receives every PO item in full, in one or two receipts, around the due day', () => {
    let partial = 0;
    let late = 0;
    for (const po of model.purchaseOrdersCreatedOn('2026-11-10')) {
      for (const item of po.items) {
        const receipts = model.receipts(po, item).filter((g) => g.moveType === '101');
        expect(receipts.reduce((n, g) => n + g.quantity, 0)).toBe(item.quantity);
        expect(receipts.at(-1)?.deliveryCompleted).toBe(true);
        if (receipts.length > 1) partial++;
        const offset = daysBetween(item.deliveryDay, receipts[0]!.postingDay);
        expect(offset).toBeGreaterThanOrEqual(-1);
        expect(offset).toBeLessThanOrEqual(1);
        if (offset > 0) late++;
        for (const r of receipts) {
          expect(r.matDoc).toMatch(/^50\d{8}$/);
          expect(r.enteredAt.getTime()).toBeGreaterThanOrEqual(
            plantDayBounds(r.postingDay).startAt.getTime(),
          );
        }
      }
    }
    expect(partial + late).toBeGreaterThan(0);
  });

  it('lists movements by posting date, showing only what was entered by then (backdated receipts come later)', () => {
    const asOf = plantDayBounds(MONDAY).startAt;
    const early = model.goodsMovements('2026-11-16', '2026-11-20', asOf);
    const later = model.goodsMovements('2026-11-16', '2026-11-20', new Date(asOf.getTime() + 7 * 86_400_000));
    expect(later.length).toBeGreaterThanOrEqual(early.length);
    const keys = new Set(early.map((g) => g.matDoc));
    for (const g of later.filter((x) => !keys.has(x.matDoc))) expect(g.enteredAt >= asOf).toBe(true);
    expect(new Set(later.map((g) => g.matDoc)).size).toBe(later.length);
    expect(later.some((g) => g.moveType === '261' && g.orderId)).toBe(true);
    // Every receipt of the lines ordered on one day, however late, is listed on its posting day.
    const receipts = model
      .purchaseOrdersCreatedOn('2026-11-04')
      .flatMap((po) => po.items.flatMap((item) => model.receipts(po, item)));
    const days = receipts.map((g) => g.postingDay).sort();
    const listed = new Set(
      model.goodsMovements(days[0]!, days.at(-1)!, new Date(8.64e15)).map((g) => g.matDoc),
    );
    for (const g of receipts) expect(listed.has(g.matDoc), `${g.matDoc} posted ${g.postingDay}`).toBe(true);
  }, 30_000);

  it('keeps the books: stock at the end of a day is the same whether asked as of that evening or as closed', () => {
    const day = '2026-11-19';
    const evening = new Date(plantDayBounds(day).endAt.getTime() - 1);
    for (const facility of ['augsburg', 'ingolstadt', 'regensburg'] as const) {
      const truth = model.stockTruth(day, day).filter((t) => t.facilityId === facility);
      const snapshot = model.stockAt(facility, evening);
      // Receipts of that day keyed in the next morning are missing from the evening snapshot only.
      const backdated = model
        .goodsMovements(day, day, new Date(8.64e15))
        .filter((g) => g.facilityId === facility && g.moveType === '101' && g.enteredAt > evening);
      for (const t of truth) {
        const s = snapshot.find((x) => x.material.id === t.material)!;
        const missing = backdated
          .filter((g) => g.material.id === t.material)
          .reduce((n, g) => n + g.quantity, 0);
        expect(s.unrestricted + s.inspection + s.blocked + missing, `${facility} ${t.material}`).toBe(
          t.stock,
        );
      }
    }
  });

  it('exposes truths: fulfilment below 1 for late lines, lead times from PO to receipt, stock below min sometimes', () => {
    const from = '2026-11-02';
    const to = '2026-11-20';
    const fulfilment = model.fulfilmentTruth(from, to);
    expect(fulfilment.every((f) => f.fulfilmentRate >= 0 && f.fulfilmentRate <= 1)).toBe(true);
    expect(fulfilment.some((f) => f.fulfilmentRate < 1)).toBe(true);
    expect(fulfilment.filter((f) => f.fulfilmentRate === 1).length / fulfilment.length).toBeGreaterThan(0.7);
    const leadTimes = model.leadTimeTruth(from, to);
    for (const l of leadTimes) expect(l.meanLeadTimeDays).toBeGreaterThanOrEqual(2);
    const stock = model.stockTruth(from, to);
    const below = stock.filter((s) => s.belowMin);
    expect(below.length).toBeGreaterThan(0);
    expect(below.length / stock.length).toBeLessThan(0.1);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const again = new ProcurementModel(new PlantModel({ seed: 1 }));
    const other = new ProcurementModel(new PlantModel({ seed: 2 }));
    const day = addPlantDays(MONDAY, -3);
    const key = (m: ProcurementModel) =>
      m.goodsMovements(day, day, new Date(8.64e15)).map((g) => `${g.matDoc}:${g.quantity}:${g.postingDay}`);
    expect(key(again)).toEqual(key(model));
    expect(key(other)).not.toEqual(key(model));
  });
});
