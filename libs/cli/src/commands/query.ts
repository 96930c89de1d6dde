import { queryWarehouse } from '@aurora/engine';
import { type Command, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { cliContext } from '../context.js';

const text = (v: unknown): string =>
  v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);

/** Columns padded to their widest value; numbers right-aligned. */
export function formatTable(
  columns: readonly { name: string }[],
  rows: readonly Record<string, unknown>[],
): string[] {
  const cells = rows.map((r) => columns.map((c) => text(r[c.name])));
  const widths = columns.map((c, i) => Math.max(c.name.length, ...cells.map((row) => row[i]!.length)));
  const numeric = columns.map(
    (c) => rows.length > 0 && rows.every((r) => r[c.name] === null || typeof r[c.name] === 'number'),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((c) => c.name)),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map(line),
    `(${rows.length} row${rows.length === 1 ? '' : 's'})`,
  ];
}

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description(
      'run SQL over the warehouse the last medallion run left: schemas silver, gold (and reference)',
    )
    .argument('<sql>', 'one SQL statement, e.g. "SELECT * FROM gold.agg_oee_daily LIMIT 5"')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'),
    )
    .addHelpText(
      'after',
      '\nThe warehouse is opened read-only. json prints one array of row objects (timestamps ISO 8601 UTC).\n' +
        'Tables: pnpm aurora query "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2"',
    )
    .action(async (sql: string, opts: { format: 'table' | 'json' | 'csv' }) => {
      const ctx = cliContext();
      const { columns, rows } = await queryWarehouse(ctx.config.home, sql);
      if (opts.format === 'json') ctx.out(JSON.stringify(rows, null, 2));
      else if (opts.format === 'csv') {
        process.stdout.write(
          stringify(
            rows.map((r) => columns.map((c) => text(r[c.name]))),
            { header: true, columns: columns.map((c) => c.name) },
          ),
        );
      } else for (const line of formatTable(columns, rows)) ctx.out(line);
    });
}
