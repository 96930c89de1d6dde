import type { OrchestrationContext, OrchestrationHandler, Task } from 'durable-functions';
import * as df from 'durable-functions';
import type {
  BronzeSync,
  BuildModelInput,
  ModelBuild,
  PublishInput,
  PublishReport,
  SynapseLoad,
  ViewRefreshReport,
} from './activities.js';

/**
 * The medallion as a Durable orchestration. This file decides and does nothing else: no I/O, no clock,
 * no randomness (the lint rule for orchestrator files bans them); the activities in activities.ts do the
 * work, and only their types are imported here. Its input is the DAG as data, so a test drives it with a
 * hand-written context and whoever starts it (the timer) reads pipelines/.
 */

export const ORCHESTRATOR = 'medallionOrchestrator';
/** One medallion at a time: the timer starts this instance id only when it is not running or pending. */
export const INSTANCE_ID = 'medallion';

/** Activity names, bound to their payloads so a name and its input cannot drift apart. */
export const ACTIVITIES = {
  syncBronze: 'syncBronze',
  buildModel: 'buildModel',
  publishTables: 'publishTables',
  loadSynapse: 'loadSynapse',
  refreshMaterializedViews: 'refreshMaterializedViews',
} as const;

interface ActivityPayloads {
  syncBronze: [{ runId: string }, BronzeSync];
  buildModel: [BuildModelInput, ModelBuild];
  publishTables: [PublishInput, PublishReport];
  loadSynapse: [{ runId: string }, SynapseLoad];
  refreshMaterializedViews: [{ runId: string; threshold: number }, ViewRefreshReport];
}
export type ActivityName = keyof ActivityPayloads;
export type ActivityInput<N extends ActivityName> = ActivityPayloads[N][0];
export type ActivityOutput<N extends ActivityName> = ActivityPayloads[N][1];

/** Transient failures (the lake, the pool) are retried: 3 attempts, 30 s then 60 s. */
export const ACTIVITY_RETRY = Object.assign(new df.RetryOptions(30_000, 3), { backoffCoefficient: 2 });

const call = <N extends ActivityName>(ctx: OrchestrationContext, name: N, input: ActivityInput<N>): Task =>
  ctx.df.callActivityWithRetry(ACTIVITIES[name], ACTIVITY_RETRY, input);

/** A model of the DAG: its name and the models it reads (bronze and reference inputs left out). */
export interface DagModel {
  name: string;
  inputs: string[];
}

export interface MedallionRunInput {
  runId: string;
  /** project.levels as data: the models of one level do not read each other. */
  levels: DagModel[][];
  /** In Azure: load gold into the dedicated pool and look after its materialized views. */
  synapse?: { mvRebuildThreshold: number };
}

export type ModelStatus =
  | { model: string; status: 'ok'; rows: number; quarantined: number; failedExpectations: string[] }
  | { model: string; status: 'failed'; error: string }
  | { model: string; status: 'skipped'; because: string[] };

export interface MedallionSummary {
  runId: string;
  bronzeFiles: number;
  models: ModelStatus[];
  published?: PublishReport;
  synapse?: SynapseLoad;
  views?: ViewRefreshReport;
  ok: boolean;
  summary: string;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Runs every task of a fan-out to its end, even when some fail: Task.all fails on the first failure, so
 * the still-pending tasks are awaited again until none is left. Each outcome is read from its task.
 */
function* settleAll(ctx: OrchestrationContext, tasks: Task[]): Generator<Task, void, unknown> {
  let pending = tasks;
  while (pending.length > 0) {
    try {
      yield ctx.df.Task.all(pending);
    } catch {
      // The failed task keeps its error; the loop waits for the others.
    }
    pending = pending.filter((t) => !t.isCompleted && !t.isFaulted);
  }
}

/**
 * syncBronze, then level by level a buildModel per model, all of a level at once; a model whose input
 * failed or was skipped is skipped (with the inputs that caused it), the others still run. Then
 * publishTables for the models that built, and in Azure loadSynapse and refreshMaterializedViews.
 */
export const medallionOrchestrator: OrchestrationHandler = function* (ctx: OrchestrationContext) {
  const input = ctx.df.getInput() as MedallionRunInput;
  const { runId } = input;
  if (!ctx.df.isReplaying) ctx.log(`medallion ${runId}: ${input.levels.flat().length} models`);
  const bronze = (yield call(ctx, 'syncBronze', { runId })) as BronzeSync;

  const status = new Map<string, ModelStatus>();
  for (const level of input.levels) {
    const runnable: DagModel[] = [];
    for (const model of level) {
      const because = model.inputs.filter((i) => status.has(i) && status.get(i)!.status !== 'ok');
      if (because.length > 0) status.set(model.name, { model: model.name, status: 'skipped', because });
      else runnable.push(model);
    }
    const tasks = runnable.map((m) => call(ctx, 'buildModel', { runId, model: m.name }));
    yield* settleAll(ctx, tasks);
    runnable.forEach((model, i) => {
      const task = tasks[i]!;
      if (task.isFaulted) {
        status.set(model.name, { model: model.name, status: 'failed', error: errorText(task.result) });
        return;
      }
      const build = task.result as ModelBuild;
      status.set(
        model.name,
        build.ok
          ? {
              model: model.name,
              status: 'ok',
              rows: build.rows,
              quarantined: build.quarantined,
              failedExpectations: build.failedExpectations,
            }
          : { model: model.name, status: 'failed', error: build.error },
      );
    });
  }
  const models = input.levels.flat().map((m) => status.get(m.name)!);
  const built = models.filter((m) => m.status === 'ok').map((m) => m.model);
  const summary: MedallionSummary = {
    runId,
    bronzeFiles: bronze.files,
    models,
    ok: built.length === models.length,
    summary: '',
  };
  if (built.length > 0) {
    summary.published = (yield call(ctx, 'publishTables', { runId, models: built })) as PublishReport;
    if (input.synapse) {
      summary.synapse = (yield call(ctx, 'loadSynapse', { runId })) as SynapseLoad;
      summary.views = (yield call(ctx, 'refreshMaterializedViews', {
        runId,
        threshold: input.synapse.mvRebuildThreshold,
      })) as ViewRefreshReport;
      if (summary.synapse.failed.length > 0) summary.ok = false;
    }
  }
  const count = (s: ModelStatus['status']) => models.filter((m) => m.status === s).length;
  summary.summary =
    `medallion ${runId}: ${count('ok')} built, ${count('failed')} failed, ${count('skipped')} skipped` +
    (summary.synapse
      ? `; synapse ${summary.synapse.loaded.length} loaded, ${summary.synapse.unchanged.length} unchanged, ${summary.synapse.failed.length} failed; ${summary.views?.rebuilt.length ?? 0} views rebuilt`
      : '');
  ctx.df.setCustomStatus({ ok: summary.ok, summary: summary.summary });
  return summary;
};

/** The DAG of a loaded project as the orchestration's input: model-to-model edges only. */
export function dagOf(levels: readonly { name: string; inputs: readonly string[] }[][]): DagModel[][] {
  const names = new Set(levels.flat().map((m) => m.name));
  return levels.map((level) =>
    level.map((m) => ({ name: m.name, inputs: m.inputs.filter((i) => names.has(i)) })),
  );
}
