import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type RunningAzurite, startAzurite } from '@aurora/azurite';
import { ManualClock } from '@aurora/core';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobLake } from './blob-lake.js';
import { createCheckpointStore, createTableClient } from './checkpoints.js';
import { writeDeadLetters } from './dead-letter.js';
import type { Lake } from './lake.js';
import { ParquetCodec } from './parquet.js';
import { putNew } from './put-new.js';
import { createSourceStatusStore, MAX_STATUS_ERROR_CHARS } from './source-status.js';
import { verifyLake } from './verify.js';

let azurite: RunningAzurite;
let lake: Lake;
let codec: ParquetCodec;

beforeAll(async () => {
  azurite = await startAzurite();
  lake = createBlobLake({ connectionString: azurite.connectionString, blockSizeBytes: 64 * 1024 });
  codec = await ParquetCodec.create();
});
afterAll(async () => {
  codec.close();
  await azurite.close();
});

const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe('BlobLake on Azurite', () => {
  it('puts, stats, gets and lists files under container-rooted paths', async () => {
    const file = await lake.put('bronze/a/one.bin', Buffer.from('hello'), { metadata: { rows: '1' } });
    expect(file.sizeBytes).toBe(5);
    expect((await lake.get('bronze/a/one.bin')).toString()).toBe('hello');
    const stat = await lake.stat('bronze/a/one.bin');
    expect(stat?.metadata).toMatchObject({
      rows: '1',
      sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
    });
    expect(await lake.stat('bronze/a/missing.bin')).toBeUndefined();
    await lake.put('bronze/a/two.bin', Buffer.from('x'));
    await lake.put('bronze/b/three.bin', Buffer.from('y'));
    expect((await collect(lake.list('bronze/a/'))).map((f) => f.path)).toEqual([
      'bronze/a/one.bin',
      'bronze/a/two.bin',
    ]);
    expect(await collect(lake.list('gold/nothing/'))).toEqual([]);
  });

  it('never overwrites: a second writer of the same path gets a conflict', async () => {
    await lake.put('bronze/c/x.bin', Buffer.from('first'));
    await expect(lake.put('bronze/c/x.bin', Buffer.from('second'))).rejects.toMatchObject({
      code: 'lake.conflict',
    });
    expect((await lake.get('bronze/c/x.bin')).toString()).toBe('first');
    const moved = await putNew(lake, (m) => `bronze/c/y_${m}.bin`, Buffer.from('a'));
    const movedAgain = await putNew(lake, (m) => `bronze/c/y_${m}.bin`, Buffer.from('b'));
    expect([moved.path, movedAgain.path]).toEqual(['bronze/c/y_0.bin', 'bronze/c/y_1.bin']);
  });

  it('streams large files in blocks and records the hash of the whole', async () => {
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(50_000, i));
    async function* stream() {
      yield* chunks;
    }
    const file = await lake.put('silver/big/file.bin', stream());
    expect(file.sizeBytes).toBe(500_000);
    expect((await lake.get('silver/big/file.bin')).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('shows nothing of a stream that fails half-way', async () => {
    async function* failing() {
      yield Buffer.alloc(200_000, 1); // three blocks staged
      throw new Error('source connection lost');
    }
    await expect(lake.put('bronze/d/partial.bin', failing())).rejects.toThrow('source connection lost');
    expect(await lake.stat('bronze/d/partial.bin')).toBeUndefined();
    expect(await collect(lake.list('bronze/d/'))).toEqual([]);
  });

  it('shows nothing of a write whose process is killed -9 half-way', async () => {
    const script = join(tmpdir(), `aurora-killed-writer-${process.pid}.mts`);
    await writeFile(
      script,
      `import { createBlobLake } from ${JSON.stringify(resolve(import.meta.dirname, 'blob-lake.ts'))};
       const lake = createBlobLake({ connectionString: process.env.CS!, blockSizeBytes: 65536 });
       async function* slow() {
         for (let i = 0; ; i++) {
           yield Buffer.alloc(65536, i);
           if (i === 3) process.stdout.write('staged\\n');
           await new Promise((r) => setTimeout(r, 20));
         }
       }
       await lake.put('bronze/killed/file.parquet', slow());`,
    );
    // node itself, not the tsx wrapper, so that SIGKILL hits the process doing the writing
    const child = spawn(process.execPath, ['--conditions=@aurora/source', '--import', 'tsx', script], {
      env: { ...process.env, CS: azurite.connectionString },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((done, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('staged')) done();
      });
      child.on('exit', () => fail(new Error('writer exited before staging')));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const blocks = await service
      .getContainerClient('bronze')
      .getBlockBlobClient('killed/file.parquet')
      .getBlockList('uncommitted');
    expect(blocks.uncommittedBlocks?.length ?? 0).toBeGreaterThanOrEqual(4); // the data did reach storage...
    expect(await lake.stat('bronze/killed/file.parquet')).toBeUndefined(); // ...but no reader can see it
    expect(await collect(lake.list('bronze/killed/'))).toEqual([]);
  });
});

describe('CheckpointStore on Azurite tables', () => {
  it('moves only for the writer holding the current etag', async () => {
    const store = createCheckpointStore(createTableClient(azurite.connectionString, 'checkpoints'));
    expect(await store.load('iot', 'augsburg')).toBeUndefined();
    const etag1 = await store.save('iot', 'augsburg', { sequence: 10 }, undefined);
    await expect(store.save('iot', 'augsburg', { sequence: 11 }, undefined)).rejects.toMatchObject({
      code: 'checkpoint.conflict',
    });
    const etag2 = await store.save('iot', 'augsburg', { sequence: 20 }, etag1);
    await expect(store.save('iot', 'augsburg', { sequence: 15 }, etag1)).rejects.toMatchObject({
      code: 'checkpoint.conflict',
    });
    const loaded = await store.load<{ sequence: number }>('iot', 'augsburg');
    expect(loaded).toMatchObject({ value: { sequence: 20 }, etag: etag2 });
    await store.save('oracle-erp', 'MTL/ITEMS#1?', { scn: '123' }, undefined);
    expect((await store.list('oracle-erp')).map((c) => c.key)).toEqual(['MTL/ITEMS#1?']);
  });
});

describe('SourceStatusStore on Azurite tables', () => {
  it('keeps a failed run whose error quotes a source at length, clipped to fit a table property', async () => {
    const store = createSourceStatusStore(createTableClient(azurite.connectionString, 'sourcestatus'));
    const error = `sap.failed: RETURN E: ${'x'.repeat(200_000)}`;
    const status = await store.record({
      source: 'sap',
      at: new Date(0),
      ok: false,
      rows: 0,
      deadLettered: 1,
      error,
    });
    expect(status.lastError).toBe(`${error.slice(0, MAX_STATUS_ERROR_CHARS)}… (${error.length} characters)`);
    expect((await store.get('sap'))?.lastError).toBe(status.lastError);
  });
});

describe('dead letters and verify', () => {
  it('keeps rejected records with reasons, bytes included, and verify reads them', async () => {
    const clock = new ManualClock('2026-05-01T10:00:00Z');
    const written = await writeDeadLetters({ lake, clock }, 'iot', 'b-1', [
      { reason: 'not JSON', code: 'iot.invalid_json', payload: Buffer.from([0xff, 0xfe, 0x00]) },
      {
        reason: 'value is a string',
        code: 'iot.invalid_message',
        payload: { value: 'hot' },
        context: { topic: 't' },
      },
    ]);
    expect(written?.path).toBe(
      'bronze/_deadletter/iot/year=2026/month=05/day=01/iot_20260501T100000000000Z.jsonl',
    );
    const lines = (await lake.get(written!.path))
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      code: 'iot.invalid_json',
      batch_id: 'b-1',
      payload: { base64: '//4A' },
    });
    expect(lines[1]).toMatchObject({
      reason: 'value is a string',
      payload: { value: 'hot' },
      context: { topic: 't' },
    });
    expect(await writeDeadLetters({ lake, clock }, 'iot', 'b-2', [])).toBeUndefined();
  });

  it('finds files changed after commit, unreadable Parquet and files outside the layout', async () => {
    const good = await codec.encode([{ name: 'x', type: 'BIGINT' }], [{ x: 1 }, { x: 2 }]);
    await lake.put(
      'bronze/iot/augsburg/year=2026/month=05/day=01/hour=10/telemetry_20260501T100000000000Z.parquet',
      good.bytes,
      {
        metadata: { rows: '2' },
      },
    );
    await lake.put(
      'bronze/iot/augsburg/year=2026/month=05/day=01/hour=10/telemetry_20260501T100001000000Z.parquet',
      good.bytes.subarray(0, 40),
      {
        metadata: { rows: '2' },
      },
    );
    await lake.put(
      'bronze/iot/augsburg/year=2026/month=05/day=01/hour=11/telemetry_20260501T110000000000Z.parquet',
      good.bytes,
      {
        metadata: { rows: '3' },
      },
    );
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    await service
      .getContainerClient('bronze')
      .getBlockBlobClient(
        'iot/augsburg/year=2026/month=05/day=01/hour=10/telemetry_20260501T100000000000Z.parquet',
      )
      .upload(good.bytes.subarray(0, 50), 50, { metadata: { rows: '2', sha256: 'deadbeef' } });
    const report = await verifyLake({ lake, codec }, ['bronze/iot/', 'bronze/_deadletter/', 'bronze/a/']);
    const byPath = (suffix: string) =>
      report.problems.filter((p) => p.path.includes(suffix)).map((p) => p.problem);
    expect(byPath('hour=10/telemetry_20260501T100000000000Z')).toEqual([
      expect.stringContaining('content changed since commit'),
      expect.stringContaining('unreadable'),
    ]);
    expect(byPath('telemetry_20260501T100001000000Z')).toEqual([expect.stringContaining('unreadable')]);
    expect(byPath('hour=11')).toEqual(['declares 3 rows, holds 2']);
    expect(byPath('bronze/a/one.bin')).toEqual(['does not follow the bronze layout']);
    expect(byPath('_deadletter')).toEqual([]);
  });
});
