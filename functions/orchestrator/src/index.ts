import { createLogger, loadConfig, systemClock } from '@aurora/core';
import { loadProject } from '@aurora/engine';
import { ParquetCodec, storageFromConnectionString, storageFromIdentity } from '@aurora/lake';
import { erasedKeyIdsOf } from '@aurora/privacy';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { DefaultAzureCredential } from '@azure/identity';
import * as df from 'durable-functions';
import { createActivities, type MedallionActivities } from './activities.js';
import { MEDALLION_SCHEDULE, MEDALLION_TIMER, runInput, startMedallionSingleton } from './functions.js';
import { ACTIVITIES, medallionOrchestrator, ORCHESTRATOR } from './orchestration.js';
import { synapseRunner } from './synapse-runner.js';

/** Composition root for Azure: configuration is read once, on the first invocation. */
let activities: Promise<MedallionActivities> | undefined;
const config = () => loadConfig();
const build = async (): Promise<MedallionActivities> => {
  const c = config();
  const storage =
    c.storage.kind === 'azure'
      ? storageFromConnectionString(c.storage.connectionString)
      : c.storage.kind === 'azure-identity'
        ? storageFromIdentity({ ...c.storage, credential: new DefaultAzureCredential() })
        : undefined;
  if (!storage) {
    throw new Error('the orchestrator in Azure needs AURORA_LAKE_BLOB_URL and AURORA_LAKE_TABLE_URL');
  }
  const log = createLogger({ level: c.logLevel, name: 'orchestrator' });
  const pool = c.synapse.pool;
  return createActivities({
    lake: storage.lake,
    codec: await ParquetCodec.create(),
    clock: systemClock,
    log,
    workDir: '/tmp/aurora-orchestrator',
    erasedKeyIds: erasedKeyIdsOf(storage, c),
    ...(pool && c.synapse.lakeDfsUrl
      ? { synapse: { runner: synapseRunner(pool), lakeDfsUrl: c.synapse.lakeDfsUrl } }
      : {}),
  });
};
const use = () => {
  activities ??= build();
  return activities;
};

df.app.orchestration(ORCHESTRATOR, medallionOrchestrator);
for (const name of Object.values(ACTIVITIES)) {
  df.app.activity(name, { handler: async (input: unknown) => (await use())[name](input as never) });
}

export async function medallionTimer(_timer: Timer, ctx: InvocationContext): Promise<void> {
  const c = config();
  const result = await startMedallionSingleton(df.getClient(ctx), async () =>
    runInput(
      await loadProject(),
      systemClock,
      c.synapse.pool ? { mvRebuildThreshold: c.synapse.mvRebuildThreshold } : undefined,
    ),
  );
  ctx.log(
    result.started
      ? `medallion started (${result.instanceId})`
      : `medallion still ${result.previous}: no second instance started`,
  );
}

app.timer(MEDALLION_TIMER, {
  schedule: MEDALLION_SCHEDULE,
  extraInputs: [df.input.durableClient()],
  handler: medallionTimer,
});
