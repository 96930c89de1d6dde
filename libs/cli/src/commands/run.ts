import { systemClock, UsageError } from '@aurora/core';
import { LocalPlatform, runCycle } from '@aurora/platform';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      'run one whole cycle of every source and pipeline, deterministic for a seed, and print a summary',
    )
    .requiredOption('--once', 'run a single cycle and exit (the only mode; `aurora start` runs continuously)')
    .option('--seed <n>', 'seed of the simulated plant', '1')
    .option('--at <time>', 'end of the simulated window, ISO 8601 (default: now, to the minute)')
    .option('--window-minutes <n>', 'length of the simulated window', '5')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      '\nExit code 0 only when every published message was landed or dead-lettered and every facility landed data.',
    )
    .action(async (opts: { seed: string; at?: string; windowMinutes: string; json?: boolean }) => {
      const ctx = cliContext();
      const seed = Number(opts.seed);
      if (!Number.isSafeInteger(seed) || seed < 0)
        throw new UsageError(`--seed must be a non-negative integer, got "${opts.seed}"`);
      const windowMinutes = Number(opts.windowMinutes);
      if (!(windowMinutes > 0 && windowMinutes <= 24 * 60))
        throw new UsageError('--window-minutes must be between 1 and 1440');
      const at = opts.at ? new Date(opts.at) : new Date(Math.floor(Date.now() / 60_000) * 60_000);
      if (Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO 8601 time, got "${opts.at}"`);
      const progress = (line: string) => process.stderr.write(`${line}\n`);
      progress(`aurora run --once: home ${ctx.config.home}`);
      const platform = await LocalPlatform.open({
        config: ctx.config,
        log: ctx.log,
        clock: systemClock,
        mode: 'one-shot',
      });
      let summary: Awaited<ReturnType<typeof runCycle>>;
      try {
        progress(`lake: ${platform.storage.description}`);
        summary = await runCycle(platform, {
          seed,
          at,
          windowMinutes,
          rateHz: ctx.config.iot.rateHz,
          badRatio: ctx.config.iot.badRatio,
          onProgress: progress,
        });
      } finally {
        await platform.close();
      }
      if (opts.json) ctx.out(JSON.stringify(summary, null, 2));
      else {
        const n = (x: number) => x.toLocaleString('en');
        ctx.out(
          `cycle seed=${summary.seed} window ${summary.window.from} .. ${summary.window.to} (${(summary.durationMs / 1000).toFixed(1)} s)`,
        );
        ctx.out(
          `iot  published ${n(summary.iot.published)}  landed ${n(summary.iot.landed)}  dead-lettered ${n(summary.iot.deadLettered)} (${n(summary.iot.publishedBad)} malformed on purpose)`,
        );
        for (const [facility, f] of Object.entries(summary.iot.byFacility))
          ctx.out(`     ${facility.padEnd(11)} ${n(f.rows).padStart(8)} rows in ${f.files} files`);
        for (const p of summary.problems) ctx.out(`PROBLEM ${p}`);
        ctx.out(summary.ok ? 'OK' : 'FAILED');
      }
      process.exitCode = summary.ok ? 0 : 1;
    });
}
