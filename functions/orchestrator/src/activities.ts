import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Clock, type Logger, UsageError } from '@aurora/core';
import {
  loadSynapse as loadIntoPool,
  loadProject,
  type Model,
  type Project,
  readGoldSources,
  refreshMaterializedViews as refreshViews,
  runMedallion,
  type SqlRunner,
  type SynapseLoadReport,
  synapseDdl,
  syncToCache,
  type ViewRefresh,
  warehousePath,
} from '@aurora/engine';
import {
  type DeltaStructType,
  DeltaTable,
  DeltaTableNotFoundError,
  type Lake,
  type ParquetCodec,
  quoteIdent,
  quoteLiteral,
} from '@aurora/lake';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * What the medallion orchestration's activities do, one function each. In Azure every activity may run on
 * another instance, so a model's result travels through the lake: buildModel stages its table and its
 * quarantined rows under silver/_runs/{runId}/, and publishTables commits the staged tables. Both run the
 * engine's own runMedallion on a small project (the model, with its upstream models read back from their
 * staged files), so a model is built, checked and published exactly as the in-process run does it.
 */

export interface BronzeSync {
  files: number;
  downloaded: number;
}

export interface BuildModelInput {
  runId: string;
  model: string;
}

export type ModelBuild =
  | { ok: true; rows: number; quarantined: number; failedExpectations: string[] }
  | { ok: false; error: string };

export interface PublishInput {
  runId: string;
  /** The models that built; the others keep their previous Delta version. */
  models: string[];
}

export interface PublishReport {
  tables: { model: string; version: number; committed: boolean }[];
  problems: string[];
}

export type SynapseLoad = SynapseLoadReport;

export interface ViewRefreshReport {
  views: ViewRefresh[];
  rebuilt: string[];
}

export interface ActivityDeps {
  lake: Lake;
  codec: ParquetCodec;
  clock: Clock;
  log: Logger;
  /** A folder of this instance: the bronze cache, shared by the activities that run here. */
  workDir: string;
  project?: () => Promise<Project>;
  /** Key ids of erased data subjects (the key table's tombstones), anonymised in silver and gold. */
  erasedKeyIds?: () => Promise<readonly string[]>;
  /** The dedicated pool; undefined outside Azure. */
  synapse?: { runner: () => Promise<SqlRunner>; lakeDfsUrl: string };
}

export const stagePath = (runId: string, model: string, part: 'table' | 'quarantine'): string =>
  `silver/_runs/${runId}/${model}.${part}.parquet`;

const QUARANTINE_SCHEMA: DeltaStructType = {
  type: 'struct',
  fields: ['table_name', 'reason', 'record_key', 'record'].map((name) => ({
    name,
    type: 'string',
    nullable: true,
    metadata: {},
  })),
};

/** A model that only reads a staged table back: upstream of the model being built, or for publishing. */
function passthrough(model: Model, file: string, keepExpectations: boolean): Model {
  // No quality: the staged rows carry their _quality_score already.
  const { quality: _scored, ...rest } = model;
  return {
    ...rest,
    inputs: [],
    quarantine: [],
    expectations: keepExpectations ? model.expectations : [],
    sql: `SELECT * FROM read_parquet(${quoteLiteral(file)})`,
  };
}

/** A fresh home for one engine run whose bronze cache is the instance's shared one. */
async function runHome(workDir: string): Promise<string> {
  const home = await mkdtemp(join(workDir, 'run-'));
  await mkdir(join(workDir, 'cache'), { recursive: true });
  await symlink(join(workDir, 'cache'), join(home, 'cache'), 'dir');
  return home;
}

async function download(lake: Lake, path: string, dir: string): Promise<string> {
  const local = join(dir, path.replaceAll('/', '_'));
  await writeFile(local, await lake.get(path));
  return local;
}

export function createActivities(deps: ActivityDeps) {
  const project = deps.project ?? (() => loadProject());
  const engineDeps = (home: string) => ({
    lake: deps.lake,
    codec: deps.codec,
    clock: deps.clock,
    log: deps.log,
    home,
    ...(deps.erasedKeyIds ? { erasedKeyIds: deps.erasedKeyIds } : {}),
  });

  return {
    /** Mirrors bronze into the instance's cache: later activities here read it locally. */
    async syncBronze(input: { runId: string }): Promise<BronzeSync> {
      const synced = await syncToCache(deps.lake, 'bronze/', join(deps.workDir, 'cache', 'lake'), {
        include: (f) => f.path.endsWith('.parquet'),
      });
      deps.log.info({ event: 'medallion.bronze.synced', runId: input.runId, files: synced.files.length });
      return { files: synced.files.length, downloaded: synced.downloaded };
    },

    /**
     * Builds one model from bronze and its upstream models' staged tables, then stages its table and its
     * quarantined rows. A model whose SQL or expectations fail returns `ok: false` (retrying would not
     * help); a lake that is unreachable throws, and the orchestration retries.
     */
    async buildModel(input: BuildModelInput): Promise<ModelBuild> {
      const full = await project();
      const target = full.models.find((m) => m.name === input.model);
      if (!target) return { ok: false, error: `no model ${input.model} in pipelines/` };
      const home = await runHome(deps.workDir);
      try {
        const upstream: Model[] = [];
        for (const name of target.inputs) {
          const model = full.models.find((m) => m.name === name);
          if (!model) continue;
          upstream.push(
            passthrough(model, await download(deps.lake, stagePath(input.runId, name, 'table'), home), false),
          );
        }
        const sub: Project = {
          ...full,
          models: [...upstream, target],
          levels: [upstream, [target]].filter((l) => l.length),
        };
        const report = await runMedallion(engineDeps(home), { project: sub, publish: false, threads: 1 });
        const built = report.models.find((m) => m.model === target.name)!;
        if (built.error) return { ok: false, error: built.error };
        const table = join(home, 'table.parquet');
        const quarantine = join(home, 'quarantine.parquet');
        const instance = await DuckDBInstance.create(warehousePath(home), { access_mode: 'READ_ONLY' });
        const connection = await instance.connect();
        try {
          await connection.run(
            `COPY ${target.layer}.${quoteIdent(target.table)} TO ${quoteLiteral(table)} (FORMAT parquet, COMPRESSION zstd)`,
          );
          await connection.run(
            `COPY (SELECT * FROM silver.quarantine WHERE table_name = ${quoteLiteral(target.name)}) TO ${quoteLiteral(quarantine)} (FORMAT parquet, COMPRESSION zstd)`,
          );
        } finally {
          connection.closeSync();
          instance.closeSync();
        }
        // Overwrite: a retried activity stages the same model again.
        await deps.lake.put(stagePath(input.runId, target.name, 'table'), await readFile(table), {
          overwrite: true,
        });
        await deps.lake.put(stagePath(input.runId, target.name, 'quarantine'), await readFile(quarantine), {
          overwrite: true,
        });
        return {
          ok: true,
          rows: built.rows,
          quarantined: built.quarantined,
          failedExpectations: built.expectations
            .filter((e) => !e.passed && e.severity === 'error')
            .map((e) => e.expectation),
        };
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    },

    /**
     * Publishes the staged tables as the Delta tables silver/{table} and gold/{table} through the engine
     * (its expectations re-checked on the same rows, and appended to silver/dq_results), then the run's
     * quarantined rows as silver/quarantine, and removes the run's staging files.
     */
    async publishTables(input: PublishInput): Promise<PublishReport> {
      const full = await project();
      const home = await runHome(deps.workDir);
      try {
        const models = await Promise.all(
          input.models.map(async (name) => {
            const model = full.models.find((m) => m.name === name);
            if (!model) throw new UsageError(`no model ${name} in pipelines/`);
            return passthrough(
              model,
              await download(deps.lake, stagePath(input.runId, name, 'table'), home),
              true,
            );
          }),
        );
        const report = await runMedallion(engineDeps(home), {
          project: { ...full, bronze: [], models, levels: [models] },
          threads: 1,
        });
        const quarantined = await Promise.all(
          input.models.map((name) => download(deps.lake, stagePath(input.runId, name, 'quarantine'), home)),
        );
        const quarantine = await publishQuarantine(deps, quarantined, home);
        for await (const f of deps.lake.list(`silver/_runs/${input.runId}/`)) await deps.lake.delete(f.path);
        return {
          tables: report.models
            .filter((m) => m.delta)
            .map((m) => ({ model: m.model, version: m.delta!.version, committed: m.delta!.committed }))
            .concat({ model: 'silver.quarantine', ...quarantine }),
          problems: report.models.filter((m) => m.error).map((m) => `${m.model}: ${m.error}`),
        };
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    },

    /** COPY INTO every gold table from its current Delta snapshot (tables created or recreated as needed). */
    async loadSynapse(input: { runId: string }): Promise<SynapseLoad> {
      if (!deps.synapse)
        throw new UsageError(
          'no Synapse pool configured: set AURORA_SYNAPSE_SQL_SERVER and AURORA_SYNAPSE_SQL_DATABASE',
        );
      const full = await project();
      const ddl = synapseDdl(full, await readGoldSources({ lake: deps.lake, codec: deps.codec }, full), {
        lakeDfsUrl: deps.synapse.lakeDfsUrl,
      });
      const report = await loadIntoPool(await deps.synapse.runner(), ddl);
      deps.log.info({ event: 'medallion.synapse.loaded', runId: input.runId, ...report });
      return report;
    },

    /** REBUILD the materialized views whose overhead is beyond the threshold. */
    async refreshMaterializedViews(input: { runId: string; threshold: number }): Promise<ViewRefreshReport> {
      if (!deps.synapse)
        throw new UsageError(
          'no Synapse pool configured: set AURORA_SYNAPSE_SQL_SERVER and AURORA_SYNAPSE_SQL_DATABASE',
        );
      const views = await refreshViews(await deps.synapse.runner(), input.threshold);
      return { views, rebuilt: views.filter((v) => v.rebuilt).map((v) => v.view) };
    },
  };
}

export type MedallionActivities = ReturnType<typeof createActivities>;

/** The run's quarantined rows as the whole content of silver/quarantine (as the in-process run leaves it). */
async function publishQuarantine(
  deps: ActivityDeps,
  files: string[],
  dir: string,
): Promise<{ version: number; committed: boolean }> {
  const out = join(dir, 'quarantine-all.parquet');
  const instance = await DuckDBInstance.create();
  const connection = await instance.connect();
  try {
    await connection.run(
      `COPY (SELECT table_name, reason, record_key, record FROM read_parquet([${files.map(quoteLiteral).join(', ')}], union_by_name = true) ORDER BY table_name, record_key, reason, record) TO ${quoteLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  const tableDeps = { lake: deps.lake, codec: deps.codec, clock: deps.clock };
  let table = new DeltaTable(tableDeps, 'silver/quarantine/');
  try {
    await table.snapshot();
  } catch (error) {
    if (!(error instanceof DeltaTableNotFoundError)) throw error;
    table = await DeltaTable.create(tableDeps, 'silver/quarantine/', {
      schema: QUARANTINE_SCHEMA,
      name: 'quarantine',
    });
  }
  const result = await table.replaceWithFiles([await readFile(out)], QUARANTINE_SCHEMA);
  return { version: result.version, committed: result.committed };
}
