import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import type { Json } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobLake } from '../blob-lake.js';
import type { Lake } from '../lake.js';
import { ParquetCodec } from '../parquet.js';
import { DeltaTable } from './table.js';

// libs/lake/src/delta -> repository root -> its sibling `shared/` (the workspace's fixtures, not the repo's).
const GOLDEN = resolve(import.meta.dirname, '../../../../../shared/fixtures/delta-golden');
const hasGolden = existsSync(GOLDEN);
if (!hasGolden) {
  console.warn(`delta golden tables skipped: ${GOLDEN} is absent (it exists only in the Aurora workspace)`);
}

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;

/** Copies a fixture table into the test lake, byte for byte, under `silver/golden/<name>/`. */
async function loadFixture(name: string): Promise<string> {
  const root = join(GOLDEN, name);
  const files = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  await Promise.all(
    files.map(async (entry) => {
      const full = join(entry.parentPath, entry.name);
      await lake.put(`silver/golden/${name}/${relative(root, full)}`, await readFile(full));
    }),
  );
  return `silver/golden/${name}/`;
}

const table = (location: string) => new DeltaTable({ lake, codec }, location);
const byKey = (key: string) => (a: Record<string, Json>, b: Record<string, Json>) =>
  String(a[key]).localeCompare(String(b[key]), 'en', { numeric: true });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const dataRows = (batch: number, count: number) =>
  range(0, count).map((i) => ({ col1: i, col2: `data-${batch}-${i}` }));

describe.skipIf(!hasGolden)(
  hasGolden
    ? 'Delta reader on the protocol golden tables'
    : `Delta reader on the protocol golden tables (skipped: ${GOLDEN} is absent outside the Aurora workspace)`,
  () => {
    beforeAll(async () => {
      azurite = await startAzurite();
      lake = createBlobLake({ connectionString: azurite.connectionString });
      codec = await ParquetCodec.create();
    });
    afterAll(async () => {
      codec?.close();
      await azurite?.close();
    });

    it.each([
      ['snapshot-data0', [...dataRows(0, 10)]],
      ['snapshot-data1', [...dataRows(0, 10), ...dataRows(1, 10)]],
      ['snapshot-data2', [...dataRows(2, 10)]],
      ['snapshot-data3', [...dataRows(2, 10), ...dataRows(3, 20)]],
      ['snapshot-data2-deleted', [...dataRows(3, 20)]],
    ])('reads %s at its latest version: appends, overwrites and deletes replayed', async (name, expected) => {
      const rows = await table(await loadFixture(name)).read();
      expect(rows.sort(byKey('col2'))).toEqual(expected.sort(byKey('col2')));
    });

    it('travels time by version and by commit timestamp', async () => {
      const t = table(await loadFixture('time-travel-start-start20-start40'));
      const ids = async (at: { version?: number; timestamp?: Date }) =>
        (await t.read(at)).map((r) => r['id']).sort((a, b) => Number(a) - Number(b));
      expect(await ids({})).toEqual(range(0, 30));
      for (const version of [0, 1, 2]) expect(await ids({ version })).toEqual(range(0, 10 * (version + 1)));
      // commitInfo timestamps of versions 0, 1 and 2
      expect(await ids({ timestamp: new Date(1603724019870) })).toEqual(range(0, 10));
      expect(await ids({ timestamp: new Date(1603724021190 + 500) })).toEqual(range(0, 20));
      expect(await ids({ timestamp: new Date(1603724022561) })).toEqual(range(0, 30));
      await expect(ids({ timestamp: new Date(1603724019869) })).rejects.toMatchObject({
        code: 'usage.invalid',
      });
      await expect(ids({ version: 3 })).rejects.toMatchObject({ code: 'usage.invalid' });
      expect((await t.history()).map((h) => [h.version, h.operation, h.timestamp.getTime()])).toEqual([
        [2, 'WRITE', 1603724022561],
        [1, 'WRITE', 1603724021190],
        [0, 'WRITE', 1603724019870],
      ]);
    });

    it('replays the checkpoint plus later commits, not every data file in the folder', async () => {
      const location = await loadFixture('basic-with-inserts-deletes-checkpoint');
      const expected = [
        ...range(0, 5),
        ...range(10, 15),
        ...range(20, 25),
        ...range(30, 35),
        ...range(40, 45),
        ...range(50, 66),
      ];
      const ids = async () =>
        (await table(location).read()).map((r) => r['id']).sort((a, b) => Number(a) - Number(b));
      expect(await ids()).toEqual(expected);
      // Without the commits the checkpoint covers, only the checkpoint can give the same answer.
      for (let v = 0; v <= 10; v++)
        await lake.delete(`${location}_delta_log/${String(v).padStart(20, '0')}.json`);
      expect(await ids()).toEqual(expected);
      const snapshot = await table(location).snapshot();
      expect(snapshot.version).toBe(13);
      await expect(table(location).snapshot({ version: 5 })).rejects.toMatchObject({ code: 'usage.invalid' });
    });

    it('reads primitive types and a row of nulls', async () => {
      const rows = await table(await loadFixture('data-reader-primitives')).read();
      const expected = [
        ...range(0, 10).map((i) => ({
          as_int: i,
          as_long: i,
          as_byte: i,
          as_short: i,
          as_boolean: i % 2 === 0,
          as_float: i,
          as_double: i,
          as_string: String(i),
          as_binary: `\\x0${i}\\x0${i}`,
          as_big_decimal: String(i),
        })),
        {
          as_int: null,
          as_long: null,
          as_byte: null,
          as_short: null,
          as_boolean: null,
          as_float: null,
          as_double: null,
          as_string: null,
          as_binary: null,
          as_big_decimal: null,
        },
      ];
      expect(rows.sort(byKey('as_int'))).toEqual(expected.sort(byKey('as_int')));
    });

    it('adds partition values back from the log, typed, with null partitions and escaped paths', async () => {
      const rows = await table(await loadFixture('data-reader-partition-values')).read();
      const partitioned = (i: number) => ({
        as_int: i,
        as_long: i,
        as_byte: i,
        as_short: i,
        as_boolean: i === 0,
        as_float: i,
        as_double: i,
        as_string: String(i),
        as_string_lit_null: 'null',
        as_date: '2021-09-08',
        as_timestamp: '2021-09-08T11:11:11.000Z',
        as_big_decimal: String(i),
      });
      const nested = (i: number) => ({
        as_list_of_records: [{ val: i }, { val: i }, { val: i }],
        // nested BIGINTs keep DuckDB's JSON rendering (strings); only top-level integers become numbers
        as_nested_struct: { aa: String(i), ab: String(i), ac: { aca: i, acb: String(i) } },
        value: String(i),
      });
      const nulls = Object.fromEntries(Object.keys(partitioned(0)).map((k) => [k, null]));
      expect(rows.sort(byKey('value'))).toEqual([
        { ...partitioned(0), ...nested(0) },
        { ...partitioned(1), ...nested(1) },
        { ...nulls, ...nested(2) },
      ]);
    });
  },
);
