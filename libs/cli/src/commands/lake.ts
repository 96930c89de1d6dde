import { UsageError } from '@aurora/core';
import { ParquetCodec, verifyLake } from '@aurora/lake';
import { openStorage } from '@aurora/platform';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

const bigIntSafe = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);

export function registerLake(program: Command): void {
  const lake = program.command('lake').description('look into the data lake (bronze, silver, gold)');

  lake
    .command('ls')
    .description('list the files under a prefix, one path per line')
    .argument('[prefix]', 'a path prefix starting with its container, e.g. bronze/iot/augsburg/', 'bronze/')
    .option('-l, --long', 'also print size, rows and commit time')
    .action(async (prefix: string, opts: { long?: boolean }) => {
      const ctx = cliContext();
      const storage = await openStorage(ctx.config, 'ephemeral');
      try {
        for await (const file of storage.lake.list(prefix)) {
          ctx.out(
            opts.long
              ? `${file.path}\t${file.sizeBytes}\t${file.metadata['rows'] ?? ''}\t${file.lastModified.toISOString()}`
              : file.path,
          );
        }
      } finally {
        await storage.close();
      }
    });

  lake
    .command('cat')
    .description('print the rows of a Parquet file as JSON lines (JSON-lines files as they are)')
    .argument('<path>', 'the file, e.g. bronze/iot/augsburg/year=2026/.../telemetry_...parquet')
    .option('--limit <n>', 'print at most n rows')
    .action(async (path: string, opts: { limit?: string }) => {
      const ctx = cliContext();
      const limit = opts.limit === undefined ? undefined : Number(opts.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0))
        throw new UsageError('--limit must be a non-negative integer');
      const storage = await openStorage(ctx.config, 'ephemeral');
      const codec = await ParquetCodec.create();
      try {
        const bytes = await storage.lake.get(path);
        if (path.endsWith('.parquet')) {
          for (const row of await codec.decode(bytes, limit === undefined ? {} : { limit }))
            ctx.out(JSON.stringify(row, bigIntSafe));
        } else {
          const lines = bytes
            .toString('utf8')
            .split('\n')
            .filter((l) => l.length > 0);
          for (const line of limit === undefined ? lines : lines.slice(0, limit)) ctx.out(line);
        }
      } finally {
        codec.close();
        await storage.close();
      }
    });

  lake
    .command('verify')
    .description('check that every committed file is whole and readable; exit 1 otherwise')
    .argument('[prefixes...]', 'what to check', ['bronze/', 'silver/', 'gold/'])
    .action(async (prefixes: string[]) => {
      const ctx = cliContext();
      const storage = await openStorage(ctx.config, 'ephemeral');
      const codec = await ParquetCodec.create();
      try {
        let seen = 0;
        const report = await verifyLake({ lake: storage.lake, codec }, prefixes, () => {
          if (++seen % 100 === 0) process.stderr.write(`verified ${seen} files\n`);
        });
        for (const p of report.problems) ctx.out(`BAD ${p.path}: ${p.problem}`);
        ctx.out(
          `${report.filesChecked} files, ${report.rowsChecked} rows checked, ${report.problems.length} problems`,
        );
        process.exitCode = report.problems.length === 0 ? 0 : 1;
      } finally {
        codec.close();
        await storage.close();
      }
    });
}
