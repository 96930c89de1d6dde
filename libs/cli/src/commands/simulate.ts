import { UsageError } from '@aurora/core';
import { PlantModel, simulateTelemetry } from '@aurora/plant';
import { createTelemetryProducer, planTelemetrySend, sendTelemetry } from '@aurora/sources';
import { type Command, Option } from 'commander';
import { cliContext } from '../context.js';
import { parseTime, resolveEventHubAccess } from './iot-replay.js';

interface SimulateOptions {
  target: 'eventhubs';
  seed: string;
  from?: string;
  to?: string;
  minutes?: string;
  rateHz?: string;
  badRatio?: string;
  namespace?: string;
  hub?: string;
  dryRun?: boolean;
  json?: boolean;
}

const n = (x: number) => x.toLocaleString('en');

/** `aurora simulate --target eventhubs`: the simulated plant's telemetry into a real Event Hub, for load tests. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('send the simulated plant’s telemetry into a real Event Hub (load tests in Azure)')
    .addOption(
      new Option('--target <target>', 'where the telemetry goes')
        .choices(['eventhubs'])
        .makeOptionMandatory(),
    )
    .option('--seed <n>', 'seed of the simulated plant (same seed, same readings)', '1')
    .option('--from <time>', 'first event time, ISO 8601 (with --to)')
    .option('--to <time>', 'end of the event times, ISO 8601, exclusive (with --from)')
    .option('--minutes <m>', 'instead of --from/--to: the last M minutes up to now (default 5)')
    .option('--rate-hz <r>', 'readings per sensor per second (default AURORA_IOT_RATE_HZ)')
    .option('--bad-ratio <x>', 'share of deliberately broken messages, 0..1 (default AURORA_IOT_BAD_RATIO)')
    .option('--namespace <host>', 'Event Hubs namespace host (default AURORA_EVENTHUB_NAMESPACE)')
    .option('--hub <name>', 'event hub name (default AURORA_EVENTHUB_NAME, "telemetry")')
    .option('--dry-run', 'print how many events would go to each facility’s partition key; send nothing')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Each of the 340 sensors produces readings at --rate-hz over the window; bodies are the sensors’ JSON',
        'exactly, partition key = facility id, application properties facility and topic (what the edge',
        'route adds; with no IoT Hub in between there is no iothub-connection-device-id).',
        'Access as for `aurora iot replay`: Entra ID with a namespace ("Azure Event Hubs Data Sender"), else',
        'the connection string in secret eventhub-connection-string (AURORA_EVENTHUB_CONNECTION_STRING).',
        'Keep event times within the last 7 days and not ahead of now: the telemetry handler dead-letters',
        'anything else as implausible.',
        '',
        'Example: aurora simulate --target eventhubs --minutes 60 --rate-hz 1 --dry-run',
      ].join('\n'),
    )
    .action(async (opts: SimulateOptions) => {
      const ctx = cliContext();
      const seed = Number(opts.seed);
      if (!Number.isSafeInteger(seed) || seed < 0)
        throw new UsageError(`--seed must be a non-negative integer, got "${opts.seed}"`);
      const { from, to } = simulationWindow(opts);
      const rateHz = opts.rateHz === undefined ? ctx.config.iot.rateHz : Number(opts.rateHz);
      if (!(rateHz > 0 && rateHz <= 100))
        throw new UsageError(`--rate-hz must be a number above 0 and at most 100, got "${opts.rateHz}"`);
      const badRatio = opts.badRatio === undefined ? ctx.config.iot.badRatio : Number(opts.badRatio);
      if (!(badRatio >= 0 && badRatio <= 1))
        throw new UsageError(`--bad-ratio must be between 0 and 1, got "${opts.badRatio}"`);
      const plant = new PlantModel({ seed });
      const messages = () =>
        simulateTelemetry({
          seed,
          from,
          to,
          rateHz,
          badRatio,
          machineState: (machine, atMs) => plant.stateAt(machine, atMs),
        });
      const eventHubName = opts.hub ?? ctx.config.eventHub.name;
      const window = `readings ${from.toISOString()} .. ${to.toISOString()} at ${rateHz} Hz per sensor (seed ${seed})`;

      if (opts.dryRun) {
        const plan = planTelemetrySend(messages());
        if (opts.json)
          ctx.out(JSON.stringify({ dryRun: true, eventHubName, from, to, rateHz, seed, ...plan }, null, 2));
        else {
          ctx.out(`dry run: would send to event hub ${eventHubName}: ${window}`);
          ctx.out('partition key   events        bytes  broken on purpose');
          for (const [key, p] of Object.entries(plan.byPartitionKey).sort())
            ctx.out(
              `${key.padEnd(12)}${n(p.events).padStart(10)}${n(p.bytes).padStart(13)}${n(p.bad).padStart(19)}`,
            );
          ctx.out(`${'total'.padEnd(12)}${n(plan.events).padStart(10)}${n(plan.bytes).padStart(13)}`);
          ctx.out('nothing sent');
        }
        return;
      }

      const { access, via } = await resolveEventHubAccess(ctx, opts.namespace);
      const producer = createTelemetryProducer(access, { eventHubName });
      const controller = new AbortController();
      const onSignal = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', onSignal);
      const progress = (line: string) => process.stderr.write(`${line}\n`);
      try {
        progress(
          `simulate → ${producer.fullyQualifiedNamespace}/${producer.eventHubName} (${via}): ${window}`,
        );
        let lastShown = 0;
        const report = await sendTelemetry({
          producer,
          messages: messages(),
          log: ctx.log,
          signal: controller.signal,
          onBatchSent: ({ sentTotal }) => {
            if (sentTotal - lastShown >= 10_000) {
              lastShown = sentTotal;
              progress(`sent ${n(sentTotal)} events`);
            }
          },
        });
        if (opts.json) ctx.out(JSON.stringify(report, null, 2));
        else {
          for (const [key, r] of Object.entries(report.byPartitionKey).sort())
            ctx.out(
              `${key.padEnd(12)} ${n(r.sent).padStart(10)} events in ${n(r.batches)} batches${r.refused ? `, ${n(r.refused)} too large` : ''}`,
            );
          ctx.out(`sent ${n(report.sent)} events in ${n(report.batches)} batches`);
        }
        process.exitCode = report.refused === 0 ? 0 : 1;
      } finally {
        process.off('SIGINT', onSignal);
        await producer.close();
      }
    });
}

/** [from, to) from --from/--to, or the last --minutes up to now (whole seconds). */
function simulationWindow(opts: SimulateOptions): { from: Date; to: Date } {
  if (opts.from !== undefined || opts.to !== undefined) {
    if (opts.minutes !== undefined) throw new UsageError('use either --from/--to or --minutes, not both');
    if (opts.from === undefined || opts.to === undefined)
      throw new UsageError('--from and --to go together (or use --minutes)');
    const from = parseTime('--from', opts.from);
    const to = parseTime('--to', opts.to);
    if (to.getTime() <= from.getTime()) throw new UsageError('--to must be after --from');
    return { from, to };
  }
  const minutes = opts.minutes === undefined ? 5 : Number(opts.minutes);
  if (!(minutes > 0 && minutes <= 7 * 24 * 60))
    throw new UsageError(`--minutes must be above 0 and at most 10080 (7 days), got "${opts.minutes}"`);
  const to = new Date(Math.floor(Date.now() / 1000) * 1000);
  return { from: new Date(to.getTime() - minutes * 60_000), to };
}
