import { ManualClock } from '@aurora/core';
import { describe, expect, it } from 'vitest';
import { PlantModel } from '../plant-model.js';
import { ProcurementModel } from '../procurement.js';
import { SapRfcStandIn, type SapStructure } from './rfc-stand-in.js';

const data = new ProcurementModel(new PlantModel({ seed: 1 }));
const clock = new ManualClock('2026-11-23T08:00:00Z');

function open() {
  const standIn = new SapRfcStandIn({ data, clock });
  const pool = standIn.pool(
    { user: standIn.credentials['user']!, passwd: standIn.credentials['sap-rfc-password']! },
    { low: 1, high: 2 },
  );
  return { standIn, pool };
}

describe('SapRfcStandIn', () => {
  it('answers BAPI_PO_GETDETAIL with BAPIEKKOL, BAPIEKPO, BAPIEKET and a BAPIRETURN table, in node-rfc types', async () => {
    const { pool } = open();
    const client = await pool.acquire();
    const po = data.purchaseOrdersCreatedOn('2026-11-20')[0]!;
    const r = await client.call('BAPI_PO_GETDETAIL', {
      PURCHASEORDER: po.poNumber,
      SCHEDULES: 'X',
      HISTORY: 'X',
    });
    expect(r['RETURN']).toEqual([]);
    expect(r['PO_HEADER']).toMatchObject({
      PO_NUMBER: po.poNumber,
      VENDOR: po.supplier.vendor,
      CREATED_ON: '20261120',
    });
    const [item] = r['PO_ITEMS'] as SapStructure[];
    expect(item).toMatchObject({
      PO_ITEM: '00010',
      PLANT: po.plant,
      QUANTITY: `${po.items[0]!.quantity}.000`,
    });
    const [line] = r['PO_ITEM_SCHEDULES'] as SapStructure[];
    expect(line).toMatchObject({
      SERIAL_NO: '0001',
      DELIV_DATE: po.deliveryDay.replaceAll('-', ''),
      DELIV_TIME: '000000',
    });

    const missing = await client.call('BAPI_PO_GETDETAIL', { PURCHASEORDER: '4599999999' });
    expect(missing['RETURN']).toEqual([
      expect.objectContaining({ TYPE: 'E', CODE: '06019', LOG_MSG_NO: '000000', MESSAGE_V1: '4599999999' }),
    ]);
    expect(Object.keys((missing['RETURN'] as SapStructure[])[0]!)).not.toContain('ID');
    await pool.release(client);
  });

  it('shows only what exists by its clock: a PO created later does not exist yet', async () => {
    const { pool } = open();
    const client = await pool.acquire();
    const later = data.purchaseOrdersCreatedOn('2026-11-24')[0]!;
    const r = await client.call('BAPI_PO_GETDETAIL', { PURCHASEORDER: later.poNumber });
    expect((r['RETURN'] as SapStructure[])[0]?.['TYPE']).toBe('E');
  });

  it('throws node-rfc’s plain error objects: logon failure, communication failure, unknown function', async () => {
    const { standIn, pool } = open();
    const wrong = standIn.pool({ user: 'AURORA_RFC', passwd: 'nope' });
    await expect(wrong.acquire()).rejects.toEqual({
      name: 'RfcLibError',
      group: 3,
      code: 2,
      codeString: 'RFC_LOGON_FAILURE',
      key: 'RFC_LOGON_FAILURE',
      message: 'Name or password is incorrect (repeat logon)',
    });
    standIn.faults.inject({ fault: 'communication_failure', times: 1 });
    const client = await pool.acquire();
    const thrown = await client.call('BAPI_MATERIAL_GETLIST', {}).catch((e: unknown) => e);
    expect(thrown).not.toBeInstanceOf(Error);
    expect(thrown).toMatchObject({ name: 'RfcLibError', group: 4, code: 1 });
    expect(await client.call('BAPI_MATERIAL_GETLIST', { MAXROWS: 2 })).toMatchObject({ MATNRLIST: [{}, {}] });
    await expect(client.call('Z_NOT_THERE', {})).rejects.toMatchObject({ key: 'FU_NOT_FOUND' });
  });

  it('leases at most `high` connections; the next waits for a release', async () => {
    const { pool } = open();
    const a = await pool.acquire();
    await pool.acquire();
    let third: unknown;
    const waiting = pool.acquire().then((c) => {
      third = c;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(third).toBeUndefined();
    expect(pool.status).toEqual({ ready: 0, leased: 2 });
    await pool.release(a);
    await waiting;
    expect(third).toBe(a);
  });

  it('lists goods movements by posting date with BAPI2017 structures', async () => {
    const { pool } = open();
    const client = await pool.acquire();
    const r = await client.call('BAPI_GOODSMVT_GETITEMS', {
      PSTNG_DATE_RA: [{ SIGN: 'I', OPTION: 'BT', LOW: '20261122', HIGH: '20261122' }],
      PLANT_RA: [{ SIGN: 'I', OPTION: 'EQ', LOW: '2000' }],
      MOVE_TYPE_RA: [{ SIGN: 'I', OPTION: 'EQ', LOW: '101' }],
    });
    const items = r['GOODSMVT_ITEMS'] as SapStructure[];
    expect(items.length).toBeGreaterThan(0);
    for (const i of items)
      expect(i).toMatchObject({ PLANT: '2000', MOVE_TYPE: '101', MVT_IND: 'B', ENTRY_UOM: 'ST' });
    expect((r['GOODSMVT_HEADER'] as SapStructure[])[0]).toMatchObject({
      PSTNG_DATE: '20261122',
      TR_EV_TYPE: 'WE',
    });
    const noRange = await client.call('BAPI_GOODSMVT_GETITEMS', {});
    expect((noRange['RETURN'] as SapStructure[])[0]).toMatchObject({ TYPE: 'E', ID: 'M7' });
  });
});
