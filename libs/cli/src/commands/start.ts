import { systemClock } from '@aurora/core';
import { catalogue } from '@aurora/plant';
import { type LiveSensors, LocalPlatform, startLiveSensors } from '@aurora/platform';
import { mesSource } from '@aurora/sources';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'run the local platform (lake, Function Apps, MQTT broker, edge, simulated plant) until Ctrl-C',
    )
    .option('--seed <n>', 'seed of the simulated plant', '1')
    .option('--no-simulate', 'do not run the simulated sensors (also AURORA_SIMULATE=false)')
    .action(async (opts: { seed: string; simulate: boolean }) => {
      const ctx = cliContext();
      const platform = await LocalPlatform.open({
        config: ctx.config,
        log: ctx.log,
        clock: systemClock,
        mode: 'service',
        seed: Number(opts.seed) || 1,
      });
      let sensors: LiveSensors | undefined;
      if (opts.simulate && ctx.config.simulate) {
        sensors = await startLiveSensors({
          mqttUrl: platform.mqttUrl,
          seed: Number(opts.seed) || 1,
          rateHz: ctx.config.iot.rateHz,
          badRatio: ctx.config.iot.badRatio,
          clock: systemClock,
          log: ctx.log,
          machineState: (machine, atMs) => platform.plant.stateAt(machine, atMs),
        });
      }
      ctx.out('Aurora is running. Ctrl-C stops it.');
      ctx.out(`  home       ${ctx.config.home}`);
      ctx.out(`  lake       ${platform.storage.description}`);
      ctx.out(
        `  functions  ${platform.host.url}/api  (${platform.host.functionNames.join(', ')}); try ${platform.host.url}/api/v1/health`,
      );
      ctx.out(`  mqtt       ${platform.mqttUrl}  topics aurora/telemetry/{facility}/{machine}/{sensor}`);
      for (const [facility, standIn] of platform.standIns)
        ctx.out(`  mes        ${facility.padEnd(10)} ${standIn.vendor} stand-in at ${standIn.url}`);
      ctx.out(`  sensors    ${sensors ? `340 simulated at ${ctx.config.iot.rateHz} Hz each` : 'off'}`);
      const line = () => {
        const edge = platform.bridge.stats;
        const iot = platform.totals.get('iot');
        const mes = catalogue.facilities
          .map((f) => `${f.prefix} ${platform.totals.get(mesSource(f.id))?.rows ?? 0}`)
          .join(' ');
        return `${new Date().toISOString()}  published ${sensors?.published ?? 0}  edge received ${edge.received} pending ${edge.pending}  landed ${iot?.rows ?? 0}  dead-lettered ${iot?.deadLettered ?? 0}  batches ${iot?.batches ?? 0}  mes rows ${mes}`;
      };
      const timer = setInterval(() => ctx.out(line()), 5000);
      // The timers fire on the quarter hour (SAP hourly); a first run of every source now, then of the
      // medallion over what landed, means data and gold without the wait.
      const firstRuns = (async () => {
        await Promise.all([platform.runMesNow(), platform.runErpNow(), platform.runSapNow()]);
        await platform.runMedallionNow();
        ctx.out(
          `${new Date().toISOString()}  first medallion run done: pnpm aurora query "SELECT * FROM gold.agg_oee_daily LIMIT 5"`,
        );
      })();
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(timer);
      ctx.out('stopping: flushing the edge...');
      await firstRuns;
      await sensors?.stop();
      await platform.close();
      ctx.out(line());
    });
}
