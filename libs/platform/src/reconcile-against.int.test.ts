import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { warehousePath } from '@aurora/engine';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResultFile, reconcileAgainst, resolveAgainst } from './reconcile-against.js';

/**
 * The DuckDB side of the parallel run: result files of every format read into the shape the warehouse
 * answers in, and the comparison over a small warehouse built for the test.
 */
let dir: string;
let home: string;
const at = new Date('2026-11-23T08:00:00Z');

const SETUP = `
  CREATE SCHEMA gold;
  CREATE TABLE gold.agg_oee_daily (facility_id VARCHAR, plant_day DATE, oee DOUBLE, good_count BIGINT, scrap_eur DECIMAL(18,2));
  INSERT INTO gold.agg_oee_daily VALUES
    ('augsburg',   DATE '2026-11-22', 0.8125, 9007199254740993, 12.50),
    ('ingolstadt', DATE '2026-11-22', 0.5,    400,              0.00),
    ('regensburg', DATE '2026-11-22', 'NaN',  0,                NULL);
  CREATE TABLE gold.legacy_oee AS
    SELECT facility_id, plant_day, CASE WHEN facility_id = 'ingolstadt' THEN oee * 1.0002 ELSE oee END AS oee,
           good_count, scrap_eur
    FROM gold.agg_oee_daily;
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aurora-parallel-run-'));
  home = join(dir, 'home');
  await mkdir(join(home, 'warehouse'), { recursive: true });
  const db = await DuckDBInstance.create(warehousePath(home));
  const c = await db.connect();
  await c.run(SETUP);
  await c.run(`COPY (SELECT * FROM gold.agg_oee_daily) TO '${join(dir, 'legacy.parquet')}' (FORMAT parquet)`);
  c.closeSync();
  db.closeSync();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const query = 'SELECT * FROM gold.agg_oee_daily';

describe('readResultFile', () => {
  it('reads CSV, a JSON array, JSON lines and Parquet with their types, timestamps as ISO 8601 UTC', async () => {
    await writeFile(
      join(dir, 'r.csv'),
      'facility_id,hour,oee,n\naugsburg,2026-11-23T07:00:00.000Z,0.5,9007199254740993\n"Stra\u00dfe, 1",2026-11-23T08:00:00Z,nan,2\n',
    );
    const csv = await readResultFile(join(dir, 'r.csv'), 'csv');
    expect(csv.columns).toEqual([
      { name: 'facility_id', type: 'VARCHAR' },
      { name: 'hour', type: 'TIMESTAMP WITH TIME ZONE' },
      { name: 'oee', type: 'DOUBLE' },
      { name: 'n', type: 'BIGINT' },
    ]);
    expect(csv.rows).toEqual([
      { facility_id: 'augsburg', hour: '2026-11-23T07:00:00.000Z', oee: 0.5, n: '9007199254740993' },
      { facility_id: 'Straße, 1', hour: '2026-11-23T08:00:00.000Z', oee: 'NaN', n: 2 },
    ]);

    await writeFile(join(dir, 'a.json'), '[{"k":"a","v":1.5},{"k":"b","v":null}]');
    await writeFile(join(dir, 'l.jsonl'), '{"k":"a","v":1.5}\n{"k":"b","v":null}\n');
    for (const file of ['a.json', 'l.jsonl']) {
      const json = await readResultFile(join(dir, file), 'json');
      expect(json.rows).toEqual([
        { k: 'a', v: 1.5 },
        { k: 'b', v: null },
      ]);
      expect(json.columns.map((c) => c.type)).toEqual(['VARCHAR', 'DOUBLE']);
    }

    const parquet = await readResultFile(join(dir, 'legacy.parquet'), 'parquet');
    expect(parquet.rows[0]).toEqual({
      facility_id: 'augsburg',
      plant_day: '2026-11-22',
      oee: 0.8125,
      good_count: '9007199254740993',
      scrap_eur: expect.anything(),
    });
  });

  it('says which file it could not read (a usage error)', async () => {
    await writeFile(join(dir, 'broken.parquet'), 'not parquet');
    await expect(readResultFile(join(dir, 'broken.parquet'), 'parquet')).rejects.toMatchObject({
      code: 'usage.invalid',
      message: expect.stringContaining(`cannot read ${join(dir, 'broken.parquet')} as parquet`),
    });
  });
});

describe('resolveAgainst', () => {
  it('reads an existing file by its extension, takes anything else for SQL', async () => {
    expect(await resolveAgainst('legacy.parquet', dir)).toEqual({
      kind: 'parquet',
      file: join(dir, 'legacy.parquet'),
    });
    expect(await resolveAgainst(join(dir, 'l.jsonl'))).toEqual({ kind: 'json', file: join(dir, 'l.jsonl') });
    expect(await resolveAgainst(' SELECT 1 ', dir)).toEqual({ kind: 'sql', sql: 'SELECT 1' });
  });

  it('refuses a missing file, a file of another kind and an empty argument', async () => {
    await expect(resolveAgainst('missing.csv', dir)).rejects.toThrow(/--against missing.csv: no such file/);
    await writeFile(join(dir, 'notes.txt'), 'x');
    await expect(resolveAgainst('notes.txt', dir)).rejects.toThrow(/a file, but not .csv, .json/);
    await expect(resolveAgainst('  ', dir)).rejects.toMatchObject({ code: 'usage.invalid' });
  });
});

describe('reconcileAgainst', () => {
  it('finds the warehouse clean against itself and against its own Parquet export', async () => {
    const self = await reconcileAgainst(home, { query, against: query, at });
    expect(self.ok).toBe(true);
    expect(self.key).toEqual(['facility_id', 'plant_day']);
    expect(self.comparedColumns).toEqual(['oee', 'good_count', 'scrap_eur']);
    expect(self.rows.matched).toBe(3);
    const file = await reconcileAgainst(home, { query, against: 'legacy.parquet', cwd: dir, at });
    expect(file.summary).toBe('clean: 3 rows matched, 9 values within 0.01 %');
    expect(file.theirs).toMatchObject({ kind: 'parquet', source: join(dir, 'legacy.parquet') });
    expect(file.at).toBe('2026-11-23T08:00:00.000Z');
  });

  it('names the row and column of a value beyond the tolerance, SQL against SQL', async () => {
    const report = await reconcileAgainst(home, { query, against: 'SELECT * FROM gold.legacy_oee', at });
    expect(report.ok).toBe(false);
    expect(report.differences).toEqual([
      {
        key: { facility_id: 'ingolstadt', plant_day: '2026-11-22' },
        column: 'oee',
        ours: 0.5,
        theirs: 0.5 * 1.0002,
        relativeDifference: expect.closeTo(0.0002 / 1.0002, 10),
      },
    ]);
    const looser = await reconcileAgainst(home, {
      query,
      against: 'SELECT * FROM gold.legacy_oee',
      tolerancePercent: 0.03,
      at,
    });
    expect(looser.ok).toBe(true);
  });

  it('passes SQL errors and a missing warehouse on as usage errors', async () => {
    await expect(
      reconcileAgainst(home, { query, against: 'SELECT * FROM gold.nothing', at }),
    ).rejects.toMatchObject({ code: 'usage.invalid', message: expect.stringContaining('nothing') });
    await expect(
      reconcileAgainst(join(dir, 'empty-home'), { query, against: query, at }),
    ).rejects.toMatchObject({ code: 'usage.invalid', message: expect.stringContaining('aurora run --once') });
  });
});
