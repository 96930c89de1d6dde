import { type Clock, UsageError } from '@aurora/core';
import type { Project } from '@aurora/engine';
import { dagOf, INSTANCE_ID, type MedallionRunInput, ORCHESTRATOR } from './orchestration.js';

/** The orchestrator Function App's table: its timer, its orchestration and its activities, by name. */
export const MEDALLION_TIMER = 'medallionTimer';
/** Every 15 minutes, on the quarter hour (UTC). */
export const MEDALLION_SCHEDULE = '0 */15 * * * *';

/** Runtime statuses in which the singleton instance still owns the run: no second one is started. */
export const ACTIVE_STATUSES: readonly string[] = ['Pending', 'Running', 'ContinuedAsNew', 'Suspended'];

/** What the timer needs of the Durable client (durable-functions' DurableClient has both). */
export interface MedallionClient {
  getStatus(instanceId: string): Promise<{ runtimeStatus?: string } | undefined>;
  startNew(orchestratorName: string, options: { instanceId: string; input: unknown }): Promise<string>;
}

export interface StartResult {
  started: boolean;
  instanceId: string;
  /** The status of the instance found, when one was. */
  previous?: string;
}

/**
 * Starts the medallion orchestration under its fixed instance id unless that instance is pending, running
 * or suspended. A missing instance (durable-functions 3 throws on the extension's 404) is started.
 */
export async function startMedallionSingleton(
  client: MedallionClient,
  input: () => Promise<MedallionRunInput>,
): Promise<StartResult> {
  let previous: string | undefined;
  try {
    previous = (await client.getStatus(INSTANCE_ID))?.runtimeStatus;
  } catch (error) {
    if (!/\b404\b/.test((error as Error).message)) throw error;
  }
  if (previous !== undefined && ACTIVE_STATUSES.includes(previous)) {
    return { started: false, instanceId: INSTANCE_ID, previous };
  }
  await client.startNew(ORCHESTRATOR, { instanceId: INSTANCE_ID, input: await input() });
  return { started: true, instanceId: INSTANCE_ID, ...(previous ? { previous } : {}) };
}

/** The orchestration's input for one run: the DAG of pipelines/ as data, a run id from the clock. */
export function runInput(
  project: Project,
  clock: Clock,
  synapse: { mvRebuildThreshold: number } | undefined,
): MedallionRunInput {
  if (project.models.length === 0) throw new UsageError(`no models in ${project.dir}`);
  const runId = clock.now().toISOString().replace(/[-:.]/g, '');
  return { runId, levels: dagOf(project.levels), ...(synapse ? { synapse } : {}) };
}
