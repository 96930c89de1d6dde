import { ConfigError, secretsFromConfig, systemClock, UsageError } from '@aurora/core';
import { createSourceStatusStore, ParquetCodec } from '@aurora/lake';
import { catalogue } from '@aurora/plant';
import { openStorage } from '@aurora/platform';
import {
  checkReplayRange,
  createTelemetryConsumer,
  EVENTHUB_CONNECTION_SECRET,
  type EventHubAccess,
  landTelemetry,
  type PartitionReplayPlan,
  type PartitionReplayResult,
  planReplay,
  replayTelemetry,
} from '@aurora/sources';
import type { Command } from 'commander';
import { type CliContext, cliContext } from '../context.js';

interface ReplayOptions {
  from: string;
  to?: string;
  namespace?: string;
  hub?: string;
  consumerGroup?: string;
  batchSize: string;
  dryRun?: boolean;
  json?: boolean;
}

const n = (x: number) => x.toLocaleString('en');

/** `aurora iot replay`: backfill bronze from the telemetry Event Hub after an outage. */
export function registerIotReplay(iot: Command): void {
  iot
    .command('replay')
    .description(
      'read the telemetry Event Hub for a time range and land it through the telemetry handler (backfill after an outage)',
    )
    .requiredOption('--from <time>', 'first enqueue time to replay, ISO 8601 (inclusive)')
    .option(
      '--to <time>',
      'end of the range, ISO 8601 (exclusive; default: what each partition holds when replay starts)',
    )
    .option('--namespace <host>', 'Event Hubs namespace host (default AURORA_EVENTHUB_NAMESPACE)')
    .option('--hub <name>', 'event hub name (default AURORA_EVENTHUB_NAME, "telemetry")')
    .option(
      '--consumer-group <group>',
      'consumer group to read with (default AURORA_EVENTHUB_CONSUMER_GROUP); replay keeps no checkpoints',
    )
    .option('--batch-size <n>', 'events per landed batch (the trigger’s maxEventBatchSize)', '1000')
    .option('--dry-run', 'print what would be read from each partition, and read nothing')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Access: with a namespace (--namespace or AURORA_EVENTHUB_NAMESPACE) through Entra ID',
        '(DefaultAzureCredential: az login, or a managed identity; needs "Azure Event Hubs Data Receiver");',
        `without one, through the connection string in secret ${EVENTHUB_CONNECTION_SECRET}`,
        '(AURORA_EVENTHUB_CONNECTION_STRING, $AURORA_HOME/secrets.json, or Key Vault with AURORA_KEY_VAULT_URL).',
        'Lands into the configured lake (AURORA_STORAGE_CONNECTION_STRING; locally the Azurite of AURORA_HOME).',
        'Replaying a range twice lands it once: batches are recognised by their hub positions. Events the',
        'function already landed in differently cut batches land again with the same (device_id,',
        'sequence_number), which silver deduplicates on.',
        'Exit code 0 only when every partition was read to its end.',
        '',
        'Example: aurora iot replay --from 2026-11-23T06:00:00Z --to 2026-11-23T09:00:00Z --consumer-group replay',
      ].join('\n'),
    )
    .action(async (opts: ReplayOptions) => {
      const ctx = cliContext();
      const from = parseTime('--from', opts.from);
      const to = opts.to === undefined ? undefined : parseTime('--to', opts.to);
      const range = { from, ...(to ? { to } : {}) };
      const problem = checkReplayRange(range);
      if (problem) throw new UsageError(problem);
      const maxBatchSize = Number(opts.batchSize);
      if (!(Number.isInteger(maxBatchSize) && maxBatchSize >= 1 && maxBatchSize <= 100_000))
        throw new UsageError(`--batch-size must be an integer from 1 to 100000, got "${opts.batchSize}"`);
      const eventHubName = opts.hub ?? ctx.config.eventHub.name;
      const consumerGroup = opts.consumerGroup ?? ctx.config.eventHub.consumerGroup;
      const { access, via } = await resolveEventHubAccess(ctx, opts.namespace);
      const consumer = createTelemetryConsumer(access, { eventHubName, consumerGroup });
      const progress = (line: string) => process.stderr.write(`${line}\n`);
      const controller = new AbortController();
      const onSignal = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', onSignal);
      try {
        progress(
          `replay ${consumer.fullyQualifiedNamespace}/${consumer.eventHubName} (consumer group ${consumerGroup}, ${via})`,
        );
        progress(
          `range ${from.toISOString()} .. ${to ? to.toISOString() : 'the last event of each partition at start'}`,
        );
        if (opts.dryRun) {
          printPlan(ctx, await planReplay(consumer, range, controller.signal), opts.json);
          return;
        }
        const storage = await openStorage(ctx.config, 'ephemeral');
        const codec = await ParquetCodec.create();
        try {
          progress(`lake: ${storage.description}`);
          const deps = {
            lake: storage.lake,
            codec,
            clock: systemClock,
            catalogue,
            log: ctx.log,
            status: createSourceStatusStore(storage.table('sourcestatus')),
          };
          const summary = await replayTelemetry({
            consumer,
            from,
            ...(to ? { to } : {}),
            log: ctx.log,
            maxBatchSize,
            land: (messages, metadata) => landTelemetry(deps, messages, metadata),
            onPlan: (plans) => {
              if (!opts.json) for (const line of planLines(plans)) progress(line);
            },
            onProgress: (p) => progress(progressLine(p)),
            signal: controller.signal,
          });
          if (opts.json) ctx.out(JSON.stringify(summary, null, 2));
          else {
            ctx.out('partition  outcome   events    landed  dead-lettered  already there  repeats');
            for (const p of summary.partitions) ctx.out(summaryLine(p));
            const t = summary.totals;
            ctx.out(
              `total      ${' '.repeat(8)}${n(t.received).padStart(8)}  ${n(t.landed).padStart(8)}  ${n(t.deadLettered).padStart(13)}  ${n(t.alreadyLanded + t.alreadyDeadLettered).padStart(13)}  ${n(t.duplicates).padStart(7)}`,
            );
            ctx.out(summary.ok ? 'OK' : 'INCOMPLETE: see the partitions above; rerunning is safe');
          }
          process.exitCode = summary.ok ? 0 : 1;
        } finally {
          codec.close();
          await storage.close();
        }
      } finally {
        process.off('SIGINT', onSignal);
        await consumer.close();
      }
    });
}

/**
 * Access to the Event Hubs namespace: Entra ID when a namespace is given (flag or AURORA_EVENTHUB_NAMESPACE),
 * else the connection string in the secret provider. The connection string is never printed.
 */
export async function resolveEventHubAccess(
  ctx: CliContext,
  namespaceFlag: string | undefined,
): Promise<{ access: EventHubAccess; via: string }> {
  const namespace = namespaceFlag ?? ctx.config.eventHub.namespace;
  if (namespace) {
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(namespace))
      throw new UsageError(
        `--namespace must be the namespace host, e.g. evhns-aurora-prod.servicebus.windows.net; got "${namespace}"`,
      );
    const host = namespace.includes('.') ? namespace : `${namespace}.servicebus.windows.net`;
    const { DefaultAzureCredential } = await import('@azure/identity');
    return {
      access: { kind: 'identity', namespace: host, credential: new DefaultAzureCredential() },
      via: 'Entra ID',
    };
  }
  const secrets = await secretsFromConfig(ctx.config, { clock: systemClock, log: ctx.log });
  try {
    const connectionString = await secrets.get(EVENTHUB_CONNECTION_SECRET);
    return {
      access: { kind: 'connection-string', connectionString },
      via: `connection string from secret ${EVENTHUB_CONNECTION_SECRET}`,
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(
      `no Event Hubs namespace to reach: pass --namespace or set AURORA_EVENTHUB_NAMESPACE (Entra ID), or provide the secret ${EVENTHUB_CONNECTION_SECRET} (AURORA_EVENTHUB_CONNECTION_STRING)`,
      [
        { variable: 'AURORA_EVENTHUB_NAMESPACE', problem: 'not set' },
        { variable: 'AURORA_EVENTHUB_CONNECTION_STRING', problem: 'not set' },
      ],
    );
  }
}

/** An ISO 8601 time for a flag, or a UsageError naming the flag. */
export function parseTime(flag: string, value: string): Date {
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at.getTime()))
    throw new UsageError(`${flag} must be an ISO 8601 time such as 2026-11-23T06:00:00Z, got "${value}"`);
  return at;
}

function planLines(plans: readonly PartitionReplayPlan[]): string[] {
  return plans.map((p) =>
    p.action === 'skip'
      ? `partition ${p.partitionId}: skip (${p.reason === 'empty' ? 'empty' : `last event ${p.lastEnqueuedOnUtc?.toISOString()} is before --from`})`
      : `partition ${p.partitionId}: read up to sequence ${p.lastSequenceNumber} (last enqueued ${p.lastEnqueuedOnUtc.toISOString()})`,
  );
}

function printPlan(ctx: CliContext, plans: readonly PartitionReplayPlan[], json: boolean | undefined): void {
  if (json) ctx.out(JSON.stringify({ dryRun: true, partitions: plans }, null, 2));
  else {
    for (const line of planLines(plans)) ctx.out(line);
    ctx.out(
      `dry run: ${plans.filter((p) => p.action === 'read').length} of ${plans.length} partitions would be read; nothing read, nothing landed`,
    );
  }
}

function progressLine(p: PartitionReplayResult): string {
  const where = p.lastSequenceNumber === undefined ? '' : ` (at sequence ${p.lastSequenceNumber})`;
  return `partition ${p.partitionId}: ${p.outcome === 'done' && p.batches > 0 ? '' : `${p.outcome} `}${n(p.received)} events, ${n(p.landed)} landed${where}${p.reason ? `: ${p.reason}` : ''}`;
}

function summaryLine(p: PartitionReplayResult): string {
  return `${p.partitionId.padEnd(9)}  ${p.outcome.padEnd(8)}${n(p.received).padStart(8)}  ${n(p.landed).padStart(8)}  ${n(p.deadLettered).padStart(13)}  ${n(p.alreadyLanded + p.alreadyDeadLettered).padStart(13)}  ${n(p.duplicates).padStart(7)}${p.reason && p.outcome !== 'skipped' ? `  ${p.reason}` : ''}`;
}
