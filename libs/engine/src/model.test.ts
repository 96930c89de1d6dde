import { describe, expect, it } from 'vitest';
import { type Model, parseModel, referencedTables } from './model.js';
import { defaultPipelinesDir, loadProject, orderModels } from './project.js';

const header = (extra = '') => `/*
description: test
inputs: [bronze.orders]
key: [order_id]
${extra}
*/
`;

describe('parseModel', () => {
  it('reads the YAML header and the SELECT after it', () => {
    const model = parseModel(
      'x.sql',
      'silver',
      'orders',
      `${header('expectations:\n  - not_null: [order_id]\n  - { range: { column: qty, min: 0 }, severity: warn }')}SELECT * FROM bronze.orders;\n`,
    );
    expect(model).toMatchObject({ name: 'silver.orders', key: ['order_id'], quarantine: [] });
    expect(model.sql).toBe('SELECT * FROM bronze.orders');
    expect(model.expectations[1]).toEqual({ range: { column: 'qty', min: 0 }, severity: 'warn' });
  });

  it('refuses a model whose inputs do not match what its SQL reads, naming both sides', () => {
    expect(() =>
      parseModel(
        'x.sql',
        'silver',
        'orders',
        `${header()}SELECT * FROM bronze.orders JOIN silver.items USING (id)`,
      ),
    ).toThrow(/read but not declared: silver.items/);
    expect(() =>
      parseModel(
        'x.sql',
        'silver',
        'orders',
        `${header().replace('[bronze.orders]', '[bronze.orders, reference.fx]')}SELECT 1 FROM bronze.orders`,
      ),
    ).toThrow(/declared but not read: reference.fx/);
  });

  it('refuses a missing header, bad YAML, unknown keys, an unknown expectation and a body that is not a SELECT', () => {
    expect(() => parseModel('a.sql', 'silver', 'a', 'SELECT 1')).toThrow(
      /starts with a \/\* \.\.\. \*\/ block/,
    );
    expect(() => parseModel('b.sql', 'silver', 'b', '/* key: [a\n*/ SELECT 1')).toThrow(
      /b.sql: the header is not YAML/,
    );
    expect(() =>
      parseModel('c.sql', 'silver', 'c', `${header('owner: me')}SELECT 1 FROM bronze.orders`),
    ).toThrow(/c.sql: .*owner/);
    expect(() =>
      parseModel(
        'd.sql',
        'silver',
        'd',
        `${header('expectations:\n  - positive: [qty]')}SELECT 1 FROM bronze.orders`,
      ),
    ).toThrow(/d.sql: expectations.0/);
    expect(() => parseModel('e.sql', 'silver', 'e', `${header()}DELETE FROM bronze.orders`)).toThrow(
      /one SELECT/,
    );
  });
});

describe('referencedTables', () => {
  it('finds schema.table names, not those inside strings or comments', () => {
    expect(
      referencedTables(
        "SELECT 'silver.fake' AS s FROM bronze.a -- gold.commented\nJOIN /* silver.b */ silver.c ON reference.d.x = 1",
      ),
    ).toEqual(['bronze.a', 'reference.d', 'silver.c']);
  });
});

describe('orderModels', () => {
  const model = (name: string, inputs: string[]) => ({ name, inputs }) as unknown as Model;

  it('puts every model after the models it reads, independent ones in one level', () => {
    const levels = orderModels([
      model('gold.daily', ['gold.hourly']),
      model('gold.hourly', ['silver.states', 'silver.postings']),
      model('silver.states', ['bronze.s']),
      model('silver.postings', ['bronze.p', 'silver.orders']),
      model('silver.orders', ['bronze.o']),
    ]);
    expect(levels.map((l) => l.map((m) => m.name))).toEqual([
      ['silver.orders', 'silver.states'],
      ['silver.postings'],
      ['gold.hourly'],
      ['gold.daily'],
    ]);
  });

  it('runs a model after the tables its relationship checks read, though it does not select from them', () => {
    const orders = parseModel(
      'o.sql',
      'silver',
      'orders',
      `${header('expectations:\n  - { relationship: { column: material, to: silver.materials.material_id }, severity: warn }')}SELECT * FROM bronze.orders`,
    );
    expect(orders.requires).toEqual(['bronze.orders', 'silver.materials']);
    const levels = orderModels([orders, model('silver.materials', ['bronze.items'])]);
    expect(levels.map((l) => l.map((m) => m.name))).toEqual([['silver.materials'], ['silver.orders']]);
  });

  it('names the models of a cycle', () => {
    expect(() => orderModels([model('silver.a', ['silver.b']), model('silver.b', ['silver.a'])])).toThrow(
      /cycle: silver.a, silver.b/,
    );
  });
});

describe('the pipelines/ of this repository', () => {
  it('parse, declare their inputs, and form a DAG with gold after silver', async () => {
    const project = await loadProject(defaultPipelinesDir());
    const names = project.models.map((m) => m.name);
    for (const required of [
      'silver.production_orders',
      'silver.machine_states',
      'silver.machine_telemetry',
      'silver.quality_measurements',
      'gold.agg_oee_hourly',
      'gold.agg_oee_daily',
    ]) {
      expect(names).toContain(required);
    }
    expect(names.indexOf('gold.agg_oee_daily')).toBeGreaterThan(names.indexOf('gold.agg_oee_hourly'));
    expect(project.models.find((m) => m.name === 'silver.production_orders')?.key).toEqual([
      'facility_id',
      'order_id',
    ]);
    expect(project.models.find((m) => m.name === 'silver.machine_telemetry')?.key).toEqual([
      'sensor_id',
      'window_start',
    ]);
  });
});
