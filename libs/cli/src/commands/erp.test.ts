import { DEFAULT_ERP_TABLES } from '@aurora/sources';
import { describe, expect, it } from 'vitest';
import { pickTables } from './erp.js';

describe('pickTables', () => {
  it('takes OWNER.TABLE, TABLE or the bronze name, in the order given; all tables when none is named', () => {
    const picked = pickTables(DEFAULT_ERP_TABLES, [
      'oe_order_lines_all',
      'INV.MTL_MATERIAL_TRANSACTIONS',
      'hz_parties',
    ]);
    expect(picked.map((t) => `${t.owner}.${t.name}`)).toEqual([
      'ONT.OE_ORDER_LINES_ALL',
      'INV.MTL_MATERIAL_TRANSACTIONS',
      'AR.HZ_PARTIES',
    ]);
    expect(pickTables(DEFAULT_ERP_TABLES, [])).toHaveLength(DEFAULT_ERP_TABLES.length);
  });

  it('refuses a table that is not configured, naming the configured ones (a usage error: exit 2)', () => {
    expect(() => pickTables(DEFAULT_ERP_TABLES, ['GL.GL_JE_LINES'])).toThrow(
      expect.objectContaining({
        code: 'usage.invalid',
        message: expect.stringMatching(/INV\.MTL_PARAMETERS/),
      }),
    );
  });
});
