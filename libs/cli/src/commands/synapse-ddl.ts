import { loadProject, readGoldSources, synapseDdl, synapseScript } from '@aurora/engine';
import { ParquetCodec } from '@aurora/lake';
import { openStorage } from '@aurora/platform';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

const PLACEHOLDER_LAKE = 'https://{lake-account}.dfs.core.windows.net';

/** `aurora infra synapse-ddl`: the dedicated pool's DDL and loads, generated from pipelines/ and the gold tables. */
export function registerSynapseDdl(infra: Command): void {
  infra
    .command('synapse-ddl')
    .description(
      "print the Synapse dedicated pool's DDL generated from pipelines/: gold tables, materialized views, COPY INTO loads",
    )
    .option(
      '--lake-url <url>',
      'the lake DFS endpoint COPY INTO reads from (default: AURORA_LAKE_DFS_URL, else derived from AURORA_LAKE_BLOB_URL)',
    )
    .option('--json', 'print the statements as JSON')
    .addHelpText(
      'after',
      '\nColumn types and the files to load come from the current snapshot of each gold Delta table in the lake,\n' +
        "so run the medallion first (`pnpm aurora run --once`). The loads list exactly the snapshot's files.",
    )
    .action(async (opts: { lakeUrl?: string; json?: boolean }) => {
      const ctx = cliContext();
      const lakeDfsUrl = opts.lakeUrl ?? ctx.config.synapse.lakeDfsUrl;
      if (!lakeDfsUrl) {
        process.stderr.write(`no lake DFS URL configured: the loads read from ${PLACEHOLDER_LAKE}\n`);
      }
      const project = await loadProject();
      const storage = await openStorage(ctx.config, 'ephemeral');
      const codec = await ParquetCodec.create();
      try {
        const sources = await readGoldSources({ lake: storage.lake, codec }, project);
        const ddl = synapseDdl(project, sources, { lakeDfsUrl: lakeDfsUrl ?? PLACEHOLDER_LAKE });
        ctx.out(opts.json ? JSON.stringify(ddl, null, 2) : synapseScript(ddl));
      } finally {
        codec.close();
        await storage.close();
      }
    });
}
