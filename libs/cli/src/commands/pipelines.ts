import { systemClock } from '@aurora/core';
import { loadProject, runMedallion } from '@aurora/engine';
import { ParquetCodec } from '@aurora/lake';
import { openStorage } from '@aurora/platform';
import { erasedKeyIdsOf } from '@aurora/privacy';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

export function registerPipelines(program: Command): void {
  const pipelines = program
    .command('pipelines')
    .description('the medallion of pipelines/: list its models, run it');

  pipelines
    .command('list')
    .description('every model in run order: its level, key and inputs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = cliContext();
      const project = await loadProject();
      if (opts.json) {
        ctx.out(
          JSON.stringify(
            project.levels.flatMap((level, i) =>
              level.map((m) => ({
                level: i,
                model: m.name,
                key: m.key,
                inputs: m.inputs,
                description: m.description,
              })),
            ),
            null,
            2,
          ),
        );
        return;
      }
      project.levels.forEach((level, i) => {
        for (const m of level)
          ctx.out(
            `${String(i).padStart(2)}  ${m.name.padEnd(32)} key (${m.key.join(', ')})  <- ${m.inputs.join(', ')}`,
          );
      });
    });

  pipelines
    .command('run')
    .description(
      'run the medallion once over the bronze that has landed: silver and gold rebuilt, published as Delta tables',
    )
    .option(
      '--rebuild',
      'delete the silver and gold tables in the lake first (disaster recovery: everything from bronze)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (opts: { rebuild?: boolean; json?: boolean }) => {
      const ctx = cliContext();
      const storage = await openStorage(ctx.config, 'ephemeral');
      const codec = await ParquetCodec.create();
      try {
        if (opts.rebuild) {
          let deleted = 0;
          for (const container of ['silver/', 'gold/']) {
            for await (const file of storage.lake.list(container)) {
              await storage.lake.delete(file.path);
              deleted++;
            }
          }
          process.stderr.write(`deleted ${deleted} files under silver/ and gold/\n`);
        }
        const report = await runMedallion(
          {
            lake: storage.lake,
            codec,
            clock: systemClock,
            log: ctx.log,
            home: ctx.config.home,
            erasedKeyIds: erasedKeyIdsOf(storage, ctx.config),
          },
          { onProgress: (line) => process.stderr.write(`${line}\n`) },
        );
        if (opts.json) ctx.out(JSON.stringify(report, null, 2));
        else {
          for (const m of report.models) {
            ctx.out(
              `${m.model.padEnd(32)} ${m.error ? `FAILED: ${m.error.split('\n')[0]}` : `${m.rows.toLocaleString('en').padStart(10)} rows  ${m.quarantined} quarantined  delta v${m.delta?.version}${m.delta?.committed ? '' : ' (unchanged)'}`}`,
            );
          }
          for (const p of report.problems) ctx.out(`PROBLEM ${p}`);
          ctx.out(`${report.ok ? 'OK' : 'FAILED'} in ${(report.durationMs / 1000).toFixed(1)} s`);
        }
        process.exitCode = report.ok ? 0 : 1;
      } finally {
        codec.close();
        await storage.close();
      }
    });
}
