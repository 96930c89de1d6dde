import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalStorage, openLocalStorage } from '@aurora/azurite';
import { createBlobLake, type Lake } from '@aurora/lake';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aurora } from './cli.js';

/**
 * `aurora erp full-load` and `aurora erp verify-load` against the ERP stand-in of the simulated plant, as
 * of a fixed time. The test keeps the home's Azurite open (the CLI joins it), so it can tamper with a
 * landed file between two commands.
 */
const AT = '2026-11-23T08:00:00Z';
let home: string;
let storage: LocalStorage;
let lake: Lake;
let env: Record<string, string>;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'aurora-erp-e2e-'));
  storage = await openLocalStorage(home, { blobPort: 0, queuePort: 0, tablePort: 0 });
  lake = createBlobLake({ connectionString: storage.connectionString });
  env = { AURORA_HOME: home, AURORA_ERP_CHUNK_ROWS: '300', AURORA_RETRY_DELAYS_S: '0,0,0' };
});
afterAll(async () => {
  await storage.close();
  await rm(home, { recursive: true, force: true });
});

/** Rewrites the first landed file of a table with one row's column changed, keeping its metadata. */
async function tamper(prefix: string, column: string, value: string): Promise<string> {
  let path = '';
  for await (const f of lake.list(prefix)) path ||= f.path;
  const input = join(home, 'in.parquet');
  const output = join(home, 'out.parquet');
  await writeFile(input, await lake.get(path));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const key = String(
    (
      await c.runAndReadAll(`SELECT "_record_key" AS k FROM read_parquet('${input}') LIMIT 1`)
    ).getRowObjects()[0]!['k'],
  );
  await c.run(
    `COPY (SELECT * REPLACE (CASE WHEN "_record_key" = '${key}' THEN '${value}' ELSE "${column}" END AS "${column}") FROM read_parquet('${input}')) TO '${output}' (FORMAT parquet)`,
  );
  c.closeSync();
  db.closeSync();
  const info = await lake.stat(path);
  await lake.put(path, await readFile(output), { overwrite: true, metadata: info!.metadata });
  return key;
}

describe('aurora erp', () => {
  it('has --help on full-load and verify-load', async () => {
    for (const args of [
      ['erp', 'full-load'],
      ['erp', 'verify-load'],
    ]) {
      const help = await aurora([...args, '--help'], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Usage: aurora erp (full-load|verify-load) \[options\]/);
      expect(help.stdout).toContain(args[1] === 'full-load' ? '--resume' : 'MISMATCH <table> <key> <side>');
    }
  });

  it('full-load lands the tables in chunks; verify-load passes, then catches a tampered row (exit 1)', async () => {
    const load = await aurora(
      [
        'erp',
        'full-load',
        '--table',
        'INV.MTL_MATERIAL_TRANSACTIONS',
        '--table',
        'oe_order_lines_all',
        '--at',
        AT,
      ],
      env,
    );
    expect(load.stderr).toMatch(
      /INV\.MTL_MATERIAL_TRANSACTIONS\s+chunk\s+\d+\/\d+\s+[\d,]+ of ~[\d,]+ rows\s+[\d,]+ rows\/s/,
    );
    expect(load.code, load.stderr).toBe(0);
    expect(load.stdout).toMatch(/INV\.MTL_MATERIAL_TRANSACTIONS\s+complete\s+[\d,]+ rows in \d+ files/);
    expect(load.stdout).toMatch(/^OK: /m);
    const files: string[] = [];
    for await (const f of lake.list('bronze/oracle-erp/')) files.push(f.path);
    expect(files.length).toBeGreaterThan(2);
    for (const f of files)
      expect(f).toMatch(
        /^bronze\/oracle-erp\/(mtl_material_transactions|oe_order_lines_all)\/year=\d{4}\/month=\d{2}\/day=\d{2}\/\1_\d{8}T\d{12}Z\.parquet$/,
      );

    const clean = await aurora(['erp', 'verify-load', '--at', AT], env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(
      /INV\.MTL_MATERIAL_TRANSACTIONS\s+complete load .* 0 mismatches\s+source checked/,
    );
    expect(clean.stdout).toMatch(/^OK$/m);
    const cleanPath = clean.stdout.match(/^report: (\S+)$/m)?.[1];
    expect(cleanPath).toMatch(
      /^reports\/erp-verify-load\/year=\d{4}\/month=\d{2}\/day=\d{2}\/verify-load_\d{8}T\d{12}Z\.json$/,
    );
    const cleanReport = JSON.parse((await lake.get(cleanPath!)).toString('utf8')) as {
      check: string;
      ok: boolean;
      mismatchCount: number;
      tables: { table: string; loaded: boolean; sourceChecked: boolean }[];
    };
    expect(cleanReport).toMatchObject({ check: 'erp-verify-load', ok: true, mismatchCount: 0 });
    expect(
      cleanReport.tables
        .filter((t) => t.loaded)
        .map((t) => [t.table, t.sourceChecked])
        .sort(),
    ).toEqual([
      ['INV.MTL_MATERIAL_TRANSACTIONS', true],
      ['ONT.OE_ORDER_LINES_ALL', true],
    ]);

    const key = await tamper('bronze/oracle-erp/oe_order_lines_all/', 'ORDERED_QUANTITY', '99999');
    const caught = await aurora(['erp', 'verify-load', '--at', AT], env);
    expect(caught.code, caught.stderr).toBe(1);
    expect(caught.stdout).toContain(`MISMATCH ONT.OE_ORDER_LINES_ALL ${key} lake:`);
    expect(caught.stdout).toMatch(/^FAILED$/m);

    const json = JSON.parse((await aurora(['erp', 'verify-load', '--json', '--at', AT], env)).stdout) as {
      ok: boolean;
      mismatches: { table: string; key: string; side: string }[];
      reportPath: string;
    };
    expect(json.ok).toBe(false);
    expect(json.mismatches.map((m) => [m.table, m.key, m.side])).toEqual([
      ['ONT.OE_ORDER_LINES_ALL', key, 'lake'],
    ]);
    // Each run lands a report of its own; this one holds the mismatch.
    expect(json.reportPath).not.toBe(cleanPath);
    const landed = JSON.parse((await lake.get(json.reportPath)).toString('utf8')) as typeof json;
    expect(landed.ok).toBe(false);
    expect(landed.mismatches.map((m) => [m.table, m.key, m.side])).toEqual([
      ['ONT.OE_ORDER_LINES_ALL', key, 'lake'],
    ]);
  });

  it('exits 1 when a named table has no full load, and 2 for a table that is not configured', async () => {
    const none = await aurora(['erp', 'verify-load', '--table', 'WIP_ENTITIES', '--at', AT], env);
    expect(none.code, none.stderr).toBe(1);
    expect(none.stdout).toMatch(/WIP\.WIP_ENTITIES\s+no full load \(FAILED: asked for\)/);
    const unknown = await aurora(['erp', 'full-load', '--table', 'GL.GL_JE_LINES', '--at', AT], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--table GL\.GL_JE_LINES: not one of the configured ERP tables/);
  });
  it('run --once --fault erp:garbled_redo: every garbled redo row dead-lettered with its SQL, the rest of the ERP lands, exit 0', async () => {
    const other = await mkdtemp(join(tmpdir(), 'aurora-erp-fault-'));
    const otherStorage = await openLocalStorage(other, { blobPort: 0, queuePort: 0, tablePort: 0 });
    try {
      const run = await aurora(
        [
          'run',
          '--once',
          '--seed',
          '1',
          '--at',
          AT,
          '--window-minutes',
          '1',
          '--fault',
          'erp:garbled_redo',
          '--json',
        ],
        { AURORA_HOME: other, AURORA_RETRY_DELAYS_S: '0,0,0' },
      );
      expect(run.code, run.stderr.slice(-2000)).toBe(0);
      const erp = (
        JSON.parse(run.stdout) as {
          erp: { ok: boolean; deadLettered: number; tables: { rows: number; file?: string }[] };
        }
      ).erp;
      expect(erp.ok).toBe(true);
      expect(erp.deadLettered).toBeGreaterThan(0);
      // The first run's snapshot is read from the tables, not the redo: it lands whole.
      expect(erp.tables.filter((t) => t.file).length).toBeGreaterThanOrEqual(8);
      const otherLake = createBlobLake({ connectionString: otherStorage.connectionString });
      type Letter = { code: string; payload: string; context: { table: string } };
      const letters: Letter[] = [];
      for await (const f of otherLake.list('bronze/_deadletter/oracle-erp/'))
        for (const line of (await otherLake.get(f.path)).toString().trim().split('\n'))
          letters.push(JSON.parse(line) as Letter);
      expect(letters).toHaveLength(erp.deadLettered);
      // The statement of a table with personal data is kept sealed (dead letters are in the lake too).
      const personal = ['HZ_PARTIES', 'AP_SUPPLIER_CONTACTS', 'OE_ORDER_HEADERS_ALL'];
      expect(
        letters.every(
          (l) =>
            l.code === 'erp.redo_unparseable' &&
            (personal.includes(l.context.table)
              ? /^pd1\.[A-Za-z0-9_-]{22}\./.test(l.payload)
              : l.payload.includes('#?UNKNOWN(0x1F3A)')),
        ),
      ).toBe(true);
    } finally {
      await otherStorage.close();
      await rm(other, { recursive: true, force: true });
    }
  }, 300_000);
});
