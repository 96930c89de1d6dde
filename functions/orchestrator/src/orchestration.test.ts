import * as df from 'durable-functions';
import { describe, expect, it, vi } from 'vitest';
import { ACTIVE_STATUSES, type MedallionClient, startMedallionSingleton } from './functions.js';
import {
  ACTIVITY_RETRY,
  dagOf,
  INSTANCE_ID,
  type MedallionRunInput,
  type MedallionSummary,
  medallionOrchestrator,
  ORCHESTRATOR,
} from './orchestration.js';

/** A task as the Durable runtime hands it back: its outcome is set when the driver settles it. */
class FakeTask {
  isCompleted = false;
  isFaulted = false;
  result: unknown;
  constructor(
    readonly name: string,
    readonly input: { model?: string },
    readonly retry: df.RetryOptions,
  ) {}
}

type Outcome = { result: unknown } | { error: Error };

/**
 * Drives the orchestrator generator as the Durable runtime would: single tasks resolve (or throw) in
 * place; Task.all settles its tasks in order and, like durable-functions 3.5's WhenAllTask, throws the
 * first failure at once, leaving the later tasks pending. DummyOrchestrationContext leaves `df` undefined
 * in 3.5.0 (AZURE-NOTES §2), so the context's `df` is written here.
 */
function drive(input: MedallionRunInput, outcome: (task: FakeTask) => Outcome) {
  const calls: FakeTask[] = [];
  const batches: string[][] = [];
  const ctx = new df.DummyOrchestrationContext(ORCHESTRATOR, INSTANCE_ID, () => {});
  const setCustomStatus = vi.fn();
  ctx.df = {
    getInput: () => input,
    isReplaying: false,
    callActivityWithRetry: (name: string, retry: df.RetryOptions, activityInput: { model?: string }) => {
      const task = new FakeTask(name, activityInput, retry);
      calls.push(task);
      return task;
    },
    Task: { all: (tasks: FakeTask[]) => ({ all: tasks }) },
    setCustomStatus,
  } as never;
  const settle = (task: FakeTask): Error | undefined => {
    const o = outcome(task);
    if ('error' in o) {
      task.isFaulted = true;
      task.result = o.error;
      return o.error;
    }
    task.isCompleted = true;
    task.result = o.result;
    return undefined;
  };
  const gen = medallionOrchestrator(ctx) as Generator<unknown, MedallionSummary, unknown>;
  let step = gen.next();
  while (!step.done) {
    const yielded = step.value as FakeTask | { all: FakeTask[] };
    if ('all' in yielded) {
      batches.push(yielded.all.map((t) => t.input.model ?? t.name));
      let failure: Error | undefined;
      for (const task of yielded.all) {
        failure = settle(task);
        if (failure) break;
      }
      step = failure ? gen.throw(failure) : gen.next(yielded.all.map((t) => t.result));
    } else {
      const failure = settle(yielded);
      step = failure ? gen.throw(failure) : gen.next(yielded.result);
    }
  }
  return { summary: step.value, calls, batches, setCustomStatus };
}

/** silver.a, silver.b -> silver.c (a), silver.d (b) -> gold.e (c, d), gold.f (d). */
const LEVELS = dagOf([
  [
    { name: 'silver.a', inputs: ['bronze.x', 'reference.r'] },
    { name: 'silver.b', inputs: ['bronze.y'] },
  ],
  [
    { name: 'silver.c', inputs: ['silver.a'] },
    { name: 'silver.d', inputs: ['silver.b'] },
  ],
  [
    { name: 'gold.e', inputs: ['silver.c', 'silver.d'] },
    { name: 'gold.f', inputs: ['silver.d'] },
  ],
]);

const built = (rows: number) => ({ result: { ok: true, rows, quarantined: 0, failedExpectations: [] } });
const ok = (task: FakeTask): Outcome => {
  switch (task.name) {
    case 'syncBronze':
      return { result: { files: 12, downloaded: 3 } };
    case 'buildModel':
      return built(10);
    case 'publishTables':
      return { result: { tables: [], problems: [] } };
    case 'loadSynapse':
      return {
        result: { loaded: [{ table: 'gold.e', version: 4, files: 1 }], unchanged: ['gold.f'], failed: [] },
      };
    default:
      return { result: { views: [], rebuilt: ['gold.mv_e'] } };
  }
};

describe('medallionOrchestrator', () => {
  it('syncs bronze, fans out one buildModel per model level by level, then publishes what built', () => {
    const { summary, calls, batches } = drive({ runId: 'r1', levels: LEVELS }, ok);
    expect(batches).toEqual([
      ['silver.a', 'silver.b'],
      ['silver.c', 'silver.d'],
      ['gold.e', 'gold.f'],
    ]);
    expect(calls.map((c) => c.name)).toEqual(['syncBronze', ...Array(6).fill('buildModel'), 'publishTables']);
    expect(calls.at(-1)!.input).toEqual({
      runId: 'r1',
      models: ['silver.a', 'silver.b', 'silver.c', 'silver.d', 'gold.e', 'gold.f'],
    });
    expect(summary.ok).toBe(true);
    expect(summary.synapse).toBeUndefined();
    expect(summary.summary).toBe('medallion r1: 6 built, 0 failed, 0 skipped');
  });

  it('retries every activity 3 times, 30 s first, backoff 2', () => {
    const { calls } = drive({ runId: 'r1', levels: LEVELS }, ok);
    for (const call of calls) expect(call.retry).toBe(ACTIVITY_RETRY);
    expect(ACTIVITY_RETRY.firstRetryIntervalInMilliseconds).toBe(30_000);
    expect(ACTIVITY_RETRY.maxNumberOfAttempts).toBe(3);
    expect(ACTIVITY_RETRY.backoffCoefficient).toBe(2);
  });

  it("skips the dependants of a failed model, and still runs the models that don't read it", () => {
    const { summary, batches, calls } = drive({ runId: 'r2', levels: LEVELS }, (task) =>
      task.input.model === 'silver.a'
        ? { result: { ok: false, error: 'Binder Error: column qty' } }
        : ok(task),
    );
    expect(batches).toEqual([['silver.a', 'silver.b'], ['silver.d'], ['gold.f']]);
    expect(summary.models).toEqual([
      { model: 'silver.a', status: 'failed', error: 'Binder Error: column qty' },
      { model: 'silver.b', status: 'ok', rows: 10, quarantined: 0, failedExpectations: [] },
      { model: 'silver.c', status: 'skipped', because: ['silver.a'] },
      { model: 'silver.d', status: 'ok', rows: 10, quarantined: 0, failedExpectations: [] },
      { model: 'gold.e', status: 'skipped', because: ['silver.c'] },
      { model: 'gold.f', status: 'ok', rows: 10, quarantined: 0, failedExpectations: [] },
    ]);
    expect(calls.at(-1)!.input).toEqual({ runId: 'r2', models: ['silver.b', 'silver.d', 'gold.f'] });
    expect(summary.ok).toBe(false);
    expect(summary.summary).toBe('medallion r2: 3 built, 1 failed, 2 skipped');
  });

  it('waits for the rest of a level when an activity fails for good (Task.all fails on the first)', () => {
    const { summary, batches } = drive({ runId: 'r3', levels: LEVELS }, (task) =>
      task.input.model === 'silver.a' ? { error: new Error('lake unavailable after 3 attempts') } : ok(task),
    );
    // silver.b was still pending when silver.a failed: awaited again on its own.
    expect(batches.slice(0, 2)).toEqual([['silver.a', 'silver.b'], ['silver.b']]);
    expect(summary.models.slice(0, 2)).toEqual([
      { model: 'silver.a', status: 'failed', error: 'lake unavailable after 3 attempts' },
      { model: 'silver.b', status: 'ok', rows: 10, quarantined: 0, failedExpectations: [] },
    ]);
    expect(summary.models.find((m) => m.model === 'gold.f')!.status).toBe('ok');
  });

  it('in Azure loads Synapse and refreshes the views after publishing, with the configured threshold', () => {
    const { summary, calls, setCustomStatus } = drive(
      { runId: 'r4', levels: LEVELS, synapse: { mvRebuildThreshold: 0.3 } },
      ok,
    );
    expect(calls.slice(-3).map((c) => [c.name, c.input])).toEqual([
      ['publishTables', expect.objectContaining({ runId: 'r4' })],
      ['loadSynapse', { runId: 'r4' }],
      ['refreshMaterializedViews', { runId: 'r4', threshold: 0.3 }],
    ]);
    expect(summary.summary).toBe(
      'medallion r4: 6 built, 0 failed, 0 skipped; synapse 1 loaded, 1 unchanged, 0 failed; 1 views rebuilt',
    );
    expect(setCustomStatus).toHaveBeenCalledWith({ ok: true, summary: summary.summary });
  });

  it('publishes nothing and loads nothing when no model built', () => {
    const { summary, calls } = drive(
      { runId: 'r5', levels: LEVELS, synapse: { mvRebuildThreshold: 0.3 } },
      (t) => (t.name === 'buildModel' ? { result: { ok: false, error: 'bronze unreadable' } } : ok(t)),
    );
    expect(calls.map((c) => c.name)).not.toContain('publishTables');
    expect(calls.map((c) => c.name)).not.toContain('loadSynapse');
    expect(summary.models.filter((m) => m.status === 'skipped').map((m) => m.model)).toEqual([
      'silver.c',
      'silver.d',
      'gold.e',
      'gold.f',
    ]);
  });
});

describe('dagOf', () => {
  it('keeps model-to-model edges only', () => {
    expect(LEVELS[0]).toEqual([
      { name: 'silver.a', inputs: [] },
      { name: 'silver.b', inputs: [] },
    ]);
    expect(LEVELS[2]![0]).toEqual({ name: 'gold.e', inputs: ['silver.c', 'silver.d'] });
  });
});

describe('startMedallionSingleton', () => {
  const client = (status: string | Error) => {
    const startNew = vi.fn(async () => INSTANCE_ID);
    const c: MedallionClient = {
      getStatus: async () => {
        if (status instanceof Error) throw status;
        return { runtimeStatus: status };
      },
      startNew,
    };
    return { c, startNew };
  };
  const input = async (): Promise<MedallionRunInput> => ({ runId: 'r', levels: LEVELS });

  it.each(ACTIVE_STATUSES)('does not start a second instance while one is %s', async (status) => {
    const { c, startNew } = client(status);
    expect(await startMedallionSingleton(c, input)).toEqual({
      started: false,
      instanceId: 'medallion',
      previous: status,
    });
    expect(startNew).not.toHaveBeenCalled();
  });

  it.each(['Completed', 'Failed', 'Terminated', 'Canceled'])(
    'starts a new run after one %s',
    async (status) => {
      const { c, startNew } = client(status);
      expect((await startMedallionSingleton(c, input)).started).toBe(true);
      expect(startNew).toHaveBeenCalledWith('medallionOrchestrator', {
        instanceId: 'medallion',
        input: { runId: 'r', levels: LEVELS },
      });
    },
  );

  it("starts the first run ever (the client throws on the extension's 404), and surfaces other errors", async () => {
    const missing = client(
      new Error('DurableClient error: Durable Functions extension replied with HTTP 404 response.'),
    );
    expect((await startMedallionSingleton(missing.c, input)).started).toBe(true);
    const broken = client(new Error('DurableClient error: HTTP 500'));
    await expect(startMedallionSingleton(broken.c, input)).rejects.toThrow('HTTP 500');
    expect(broken.startNew).not.toHaveBeenCalled();
  });
});
