import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadProject } from '@aurora/engine';
import { expect } from 'vitest';
import { aurora, repoRoot } from '../e2e/cli.js';

/**
 * The fault-injection suite's shared pieces (docs/reliability.md). The short form runs in CI; FAULTS_FULL=1
 * (`pnpm test:faults`) runs more kill points, every fault kind and longer windows.
 */
export const FULL = process.env['FAULTS_FULL'] === '1';

/** The cycle every test rehearses: the plant as of AT, telemetry of the window before it. */
export const AT = '2026-11-23T08:00:00Z';
export const WINDOW_MINUTES = FULL ? '5' : '1';
export const cycleArgs = (at = AT) => [
  'run',
  '--once',
  '--seed',
  '1',
  '--at',
  at,
  '--window-minutes',
  WINDOW_MINUTES,
];

export type Env = Record<string, string>;

/**
 * Retries after 10 ms instead of 30/60/120 s. The short form reads 6 h of MES history on a first run, not
 * 72 h.
 */
export const FAST: Env = {
  AURORA_RETRY_DELAYS_S: '0.01,0.01,0.01',
  ...(FULL ? {} : { AURORA_MES_INITIAL_LOOKBACK_H: '6' }),
};

const homes: string[] = [];
/** A fresh AURORA_HOME; `removeHomes` in afterAll deletes them. */
export async function newHome(extra: Env = {}): Promise<Env> {
  const home = await mkdtemp(join(tmpdir(), 'aurora-faults-'));
  homes.push(home);
  return { AURORA_HOME: home, ...FAST, ...extra };
}
export async function removeHomes(): Promise<void> {
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })));
}

/** A small deterministic generator (mulberry32): the same seed gives the same kill points. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The summary `aurora run --once --json` prints, as far as the suite reads it. */
export interface CycleSummary {
  ok: boolean;
  iot: { published: number; publishedBad: number; landed: number; deadLettered: number };
  mes: {
    facility: string;
    ok: boolean;
    entities: {
      entity: string;
      ok: boolean;
      landed: number;
      duplicates: number;
      error?: { code: string; message: string };
    }[];
  }[];
  sap: { function: string; ok: boolean; bapis: { bapi: string; ok: boolean; landed: number }[] }[];
  erp: {
    ok: boolean;
    error?: string;
    window: { fromScn: string; toScn: string } | null;
    deadLettered: number;
  };
  problems: string[];
  durationMs: number;
}

export async function runCycle(env: Env, extra: string[] = [], at = AT): Promise<CycleSummary> {
  const run = await aurora([...cycleArgs(at), ...extra, '--json'], env);
  let summary: CycleSummary;
  try {
    summary = JSON.parse(run.stdout) as CycleSummary;
  } catch {
    throw new Error(`run --once printed no summary (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  expect(run.code, summary.problems.join('\n')).toBe(summary.ok ? 0 : 1);
  return summary;
}

const auroraScript = (
  JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { scripts: { aurora: string } }
).scripts.aurora;

export interface KillPoint {
  /** Where the kill falls, for the test's name. */
  stage: string;
  /** The progress or log line on stderr the delay counts from. */
  after: RegExp;
  /** The kill falls a random 0..maxDelayMs after that line. */
  maxDelayMs: number;
  /**
   * Instead of the first matching line: the kill falls at once on the nth (given the random draw in 0..1),
   * e.g. the line saying the k-th file of a batch is in the lake. Logs are written synchronously, so the
   * line is on stderr before the run's next write starts.
   */
  nth?: (draw: number) => number;
}

export interface KilledRun {
  /** False when the run ended before the kill fell (a delay longer than the stage). */
  killed: boolean;
  /** The last stderr line before the kill: where the run really was. */
  lastLine: string;
  stderr: string;
}

/**
 * Starts `pnpm aurora <args>` in its own process group and SIGKILLs the whole group (tsx and the node
 * process under it, with the Azurite, broker and stand-ins it runs in-process) `delayMs` after the first
 * stderr line matching `point.after`, or at once on its `point.nth` match: no handler runs, nothing is
 * flushed or closed.
 */
export function runKilled(
  args: string[],
  env: Env,
  point: KillPoint,
  delayMs: number,
  draw = 0,
): Promise<KilledRun> {
  const [tool, ...toolArgs] = auroraScript.split(' ');
  const child = spawn(resolve(repoRoot, 'node_modules/.bin', tool!), [...toolArgs, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  return new Promise((done, fail) => {
    let stderr = '';
    let partial = '';
    let lastLine = '';
    let armed = false;
    let matches = 0;
    let killed = false;
    const kill = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      process.kill(-child.pid!, 'SIGKILL');
    };
    const guard = setTimeout(kill, 240_000);
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (!killed) lastLine = line;
        if (!armed && point.after.test(line) && ++matches >= (point.nth?.(draw) ?? 1)) {
          armed = true;
          if (point.nth) kill();
          else setTimeout(kill, delayMs);
        }
      }
    });
    child.on('error', fail);
    child.on('close', () => {
      clearTimeout(guard);
      done({ killed, lastLine, stderr });
    });
  });
}

export interface HealthOptions {
  /** `aurora reconcile` must be clean (after a clean cycle over complete MES data). */
  reconcile?: boolean;
}

/**
 * What the platform promises after any fault, once a cycle has run to the end: every committed file whole
 * (`aurora lake verify`), no silver or gold key twice (`aurora query`), gold equal to the plant's truth
 * (`aurora reconcile`), and every source's last run a success (`aurora status`).
 */
export async function expectHealed(env: Env, options: HealthOptions = {}): Promise<void> {
  // Every silver and gold model declares its key (pipelines/): none may hold a key twice, whatever was
  // delivered twice.
  const dupSql = (await loadProject()).models
    .map(
      (m) =>
        `SELECT '${m.name}' AS t, count(*) AS n, count(*) - count(DISTINCT (${m.key.join(', ')})) AS dup FROM ${m.name}`,
    )
    .join(' UNION ALL ');
  // verify and status share the home's Azurite (one after the other); query and reconcile read the warehouse.
  const [lakeSide, query, reconcile] = await Promise.all([
    (async () => {
      const verify = await aurora(['lake', 'verify'], env);
      const status = await aurora(['status', '--json'], env);
      return { verify, status };
    })(),
    aurora(['query', dupSql, '--format', 'json'], env),
    options.reconcile === false ? undefined : aurora(['reconcile', '--worst', '5'], env),
  ]);
  expect(lakeSide.verify.code, lakeSide.verify.stdout + lakeSide.verify.stderr).toBe(0);
  expect(lakeSide.verify.stdout).toMatch(/[\d,]+ rows checked, 0 problems/);
  expect(query.code, query.stderr).toBe(0);
  const counts = JSON.parse(query.stdout) as { t: string; n: number; dup: number }[];
  expect(
    counts.filter((c) => c.dup !== 0),
    'silver or gold keys held twice',
  ).toEqual([]);
  for (const t of ['production_orders', 'machine_telemetry', 'machine_states', 'materials'])
    expect(counts.find((c) => c.t === `silver.${t}`)?.n, `silver.${t} rows`).toBeGreaterThan(0);
  if (reconcile) expect(reconcile.code, reconcile.stdout + reconcile.stderr).toBe(0);
  const sources = (JSON.parse(lakeSide.status.stdout) as { sources: SourceRow[] }).sources;
  expect(
    sources.filter((s) => s.lastError !== null).map((s) => `${s.source}: ${s.lastError}`),
    'sources whose last run failed',
  ).toEqual([]);
}

export interface SourceRow {
  source: string;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  rowsLandedTotal: number;
  deadLetteredTotal: number;
  latestEventAt: string | null;
  freshnessS: number | null;
}

export async function sourceStatus(env: Env): Promise<SourceRow[]> {
  const status = await aurora(['status', '--json'], env);
  expect(status.code, status.stderr).toBe(0);
  return (JSON.parse(status.stdout) as { sources: SourceRow[] }).sources;
}
