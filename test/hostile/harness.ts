import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Lake, type ParquetCodec, parseBronzePath } from '@aurora/lake';
import { expect } from 'vitest';
import { HOSTILE_FULL, type HostileCase, prototypeState, type Sentinel } from './corpus.js';

/**
 * What every hostile test checks besides its entry point's own outcome: no hang (a deadline per case),
 * memory within bounds for the oversized cases, no polluted prototype, no file read, no lake path built
 * from input.
 */

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** How long one case may take: generous, since a hang is the failure looked for, not slowness. */
export const CASE_DEADLINE_MS = HOSTILE_FULL ? 60_000 : 20_000;

/** Runs `work`, failing with the case's name when it does not settle within the deadline. */
export async function withDeadline<T>(
  what: string,
  work: () => Promise<T>,
  ms = CASE_DEADLINE_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms: a hang`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HeapUse<T> {
  result: T;
  /** Highest heapUsed seen while it ran, above the collected heap before it, in bytes. */
  peakBytes: number;
  /** heapUsed after it and a collection, above the collected heap before it: what it kept. */
  retainedBytes: number;
}

/** Runs `work` while sampling the heap every few milliseconds (and around every await). */
export async function measureHeap<T>(work: () => Promise<T>): Promise<HeapUse<T>> {
  collect();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  };
  const timer = setInterval(sample, 2);
  let result: T;
  try {
    result = await work();
  } finally {
    clearInterval(timer);
    sample();
  }
  collect();
  return { result, peakBytes: peak - base, retainedBytes: process.memoryUsage().heapUsed - base };
}

const MB = 1024 * 1024;

/**
 * Memory stays proportionate to the input: the peak within `factor` times its size plus a fixed
 * allowance, and what is kept afterwards within the allowance (nothing holds on to the input).
 */
export function expectBoundedHeap(
  what: string,
  use: HeapUse<unknown>,
  inputBytes: number,
  options: { factor?: number; allowanceBytes?: number } = {},
): void {
  const factor = options.factor ?? 30;
  const allowance = options.allowanceBytes ?? 96 * MB;
  const peakLimit = factor * inputBytes + allowance;
  expect(
    use.peakBytes,
    `${what}: heap peaked ${Math.round(use.peakBytes / MB)} MB over ${Math.round(inputBytes / MB)} MB of input (limit ${Math.round(peakLimit / MB)} MB)`,
  ).toBeLessThan(peakLimit);
  expect(
    use.retainedBytes,
    `${what}: ${Math.round(use.retainedBytes / MB)} MB still held after the case`,
  ).toBeLessThan(allowance);
}

/** The prototype chain is untouched: run before and after feeding a corpus. */
export function expectPrototypeUntouched(before: ReturnType<typeof prototypeState>): void {
  expect(prototypeState()).toEqual(before);
  expect(before.polluted).toBeUndefined();
}

/** The lake's containers: ingestion writes to bronze alone. */
const CONTAINERS = ['bronze', 'silver', 'gold', 'reports', 'privacy', 'audit'];

async function allPaths(lake: Lake): Promise<string[]> {
  const paths: string[] = [];
  for (const container of CONTAINERS) for await (const f of lake.list(`${container}/`)) paths.push(f.path);
  return paths;
}

/** Every path in the lake is a bronze path that follows the layout: none was built from input. */
export async function expectLakeLayout(lake: Lake): Promise<string[]> {
  const paths = await allPaths(lake);
  const strays = paths.filter((p) => !parseBronzePath(p));
  expect(strays, 'lake paths outside the bronze layout').toEqual([]);
  return paths;
}

async function pathsUnder(lake: Lake, prefixes: readonly string[]): Promise<string[]> {
  const paths: string[] = [];
  for (const prefix of prefixes) for await (const f of lake.list(prefix)) paths.push(f.path);
  return paths;
}

/**
 * The sentinel's secret appears nowhere in the lake (or under `prefixes`): no input made anything read the
 * file. Parquet files are decoded, dead letters read as text.
 */
export async function expectSentinelUnread(
  lake: Lake,
  codec: ParquetCodec,
  sentinel: Sentinel,
  prefixes?: readonly string[],
): Promise<void> {
  for (const path of prefixes ? await pathsUnder(lake, prefixes) : await allPaths(lake)) {
    const bytes = await lake.get(path);
    const text = path.endsWith('.parquet')
      ? JSON.stringify(await codec.decode(bytes))
      : bytes.toString('utf8');
    expect(text.includes(sentinel.secret), `${path} holds the sentinel's secret`).toBe(false);
  }
}

/** JSON lines of every dead-letter file under a source. */
export async function deadLetters(lake: Lake, source: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const f of lake.list(`bronze/_deadletter/${source}/`)) {
    const text = (await lake.get(f.path)).toString('utf8');
    for (const line of text.split('\n')) if (line.trim() !== '') out.push(JSON.parse(line));
  }
  return out;
}

/** Size in bytes of what a case feeds, for the heap bound. */
export const approximateBytes = (input: Buffer | string): number =>
  typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;

export const caseLabel = (c: HostileCase): string => `${c.id} (${c.form})`;
