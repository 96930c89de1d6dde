import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@aurora/core';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type Model, parseModel } from './model.js';

/** DuckDB types a bronze column may be declared with. */
const bronzeType = z.enum(['VARCHAR', 'DOUBLE', 'BIGINT', 'INTEGER', 'BOOLEAN', 'TIMESTAMPTZ']);

const sourcesSchema = z.strictObject({
  bronze: z.record(
    z.string().regex(/^[a-z][a-z0-9_]*$/),
    z.strictObject({
      description: z.string().optional(),
      /** Lake folder (container first): every Parquet file below it is part of the input. */
      path: z.string().regex(/^bronze\/[A-Za-z0-9_./-]+$/),
      /** The columns models may rely on: absent ones read as NULL, so a source that never landed is empty. */
      columns: z.record(z.string(), bronzeType),
    }),
  ),
});

export type BronzeInput = z.infer<typeof sourcesSchema>['bronze'][string] & { name: string };

export interface ReferenceTable {
  name: string;
  file: string;
}

/** The medallion as data: what pipelines/ holds, checked and ordered. */
export interface Project {
  dir: string;
  bronze: BronzeInput[];
  reference: ReferenceTable[];
  /** Every model, in an order where each comes after the models it reads. */
  models: Model[];
  /** The same models grouped into levels: the models of one level do not read each other. */
  levels: Model[][];
}

/** pipelines/ of this checkout (or of the deployed Function App, which ships it beside its code). */
export function defaultPipelinesDir(): string {
  return fileURLToPath(new URL('../../../pipelines', import.meta.url));
}

async function sqlFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.sql')).sort();
}

/** Reads pipelines/: sources.yaml, reference/*.csv, silver/*.sql, gold/*.sql; checks inputs and cycles. */
export async function loadProject(dir = defaultPipelinesDir()): Promise<Project> {
  const sourcesFile = join(dir, 'sources.yaml');
  const sourcesText = await readFile(sourcesFile, 'utf8').catch(() => {
    throw new UsageError(`${sourcesFile} not found: is ${dir} the pipelines folder?`);
  });
  const sources = sourcesSchema.safeParse(parseYaml(sourcesText));
  if (!sources.success) {
    throw new UsageError(
      `${sourcesFile}: ${sources.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const bronze = Object.entries(sources.data.bronze)
    .map(([name, input]) => ({ ...input, name }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const reference = (await readdir(join(dir, 'reference')).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.csv'))
    .sort()
    .map((n) => ({ name: basename(n, '.csv'), file: join(dir, 'reference', n) }));

  const models: Model[] = [];
  for (const layer of ['silver', 'gold'] as const) {
    for (const name of await sqlFiles(join(dir, layer))) {
      const file = join(dir, layer, name);
      models.push(parseModel(file, layer, basename(name, '.sql'), await readFile(file, 'utf8')));
    }
  }
  const known = new Set([
    ...bronze.map((b) => `bronze.${b.name}`),
    ...reference.map((r) => `reference.${r.name}`),
    ...models.map((m) => m.name),
    'silver.quarantine',
  ]);
  for (const model of models) {
    const missing = model.requires.filter((i) => !known.has(i));
    if (missing.length) throw new UsageError(`${model.file}: unknown inputs ${missing.join(', ')}`);
    if (model.layer === 'silver' && model.inputs.some((i) => i.startsWith('gold.'))) {
      throw new UsageError(`${model.file}: silver cannot read gold`);
    }
  }
  const levels = orderModels(models);
  return { dir, bronze, reference, models: levels.flat(), levels };
}

/** Kahn's algorithm by levels; a cycle is a UsageError naming the models in it. */
export function orderModels(models: readonly Model[]): Model[][] {
  const byName = new Map(models.map((m) => [m.name, m]));
  const pending = new Map(
    models.map((m) => [
      m.name,
      new Set((m.requires ?? m.inputs).filter((i) => byName.has(i) && i !== m.name)),
    ]),
  );
  const levels: Model[][] = [];
  while (pending.size > 0) {
    const ready = [...pending].filter(([, deps]) => deps.size === 0).map(([name]) => name);
    if (ready.length === 0) {
      throw new UsageError(`the models read each other in a cycle: ${[...pending.keys()].join(', ')}`);
    }
    ready.sort();
    levels.push(ready.map((n) => byName.get(n)!));
    for (const name of ready) pending.delete(name);
    for (const deps of pending.values()) for (const name of ready) deps.delete(name);
  }
  return levels;
}
