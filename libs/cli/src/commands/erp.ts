import { type Clock, ManualClock, systemClock, UsageError } from '@aurora/core';
import { reportPaths } from '@aurora/lake';
import { LocalPlatform, writeLakeReport } from '@aurora/platform';
import {
  bronzeTableName,
  DEFAULT_ERP_TABLES,
  type ErpTableConfig,
  type FullLoadReport,
  parseErpTables,
  qualifiedName,
  runFullLoad,
  verifyFullLoad,
} from '@aurora/sources';
import type { Command } from 'commander';
import { type CliContext, cliContext } from '../context.js';

const n = (x: number) => Math.round(x).toLocaleString('en');

export function registerErp(program: Command): void {
  const erp = program
    .command('erp')
    .description('the Oracle ERP: the initial full load and its verification')
    .addHelpText(
      'after',
      [
        '',
        'The ERP is the one AURORA_ERP_CONNECT_STRING names (password from the secret oracle-erp-password), or',
        'else the ERP stand-in of the simulated plant (as of --at). Tables: AURORA_ERP_TABLES or the default set.',
        'Progress goes to stderr, results to stdout.',
      ].join('\n'),
    );

  erp
    .command('full-load')
    .description(
      'land the ERP tables whole (the initial migration) in key-range chunks, resumable after a crash',
    )
    .option(
      '--table <OWNER.TABLE>',
      'load only this table (repeatable; OWNER.TABLE, TABLE or its bronze name)',
      collect,
      [] as string[],
    )
    .option(
      '--resume',
      'continue unfinished loads at their first chunk not yet durable (complete ones are skipped)',
    )
    .option('--at <time>', 'the simulated plant as of this time, ISO 8601 (stand-in only; default now)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      [
        '',
        'Each table is read AS OF one SCN in key ranges of about AURORA_ERP_CHUNK_ROWS rows over its first key',
        'column; each chunk lands as one file bronze/oracle-erp/{table}/year=/month=/day=/{table}_{timestamp}.parquet',
        "with _op R, _scn and the SHA-256 of every row computed at the source (_row_sha256), then the table's",
        "checkpoint moves past it. Ctrl-C or a crash loses nothing: rerun with --resume. A table's completed load",
        'is handed to CDC (the ERP timer mines its changes after the load SCN). Without --resume, an unfinished',
        'load is an error (exit 2). Exit 1 when the load failed or stopped.',
      ].join('\n'),
    )
    .action(async (opts: { table: string[]; resume?: boolean; at?: string; json?: boolean }) => {
      const ctx = cliContext();
      const progress = (line: string) => process.stderr.write(`${line}\n`);
      const tables = pickTables(configuredTables(ctx), opts.table);
      const platform = await openPlatform(ctx, opts.at);
      const controller = new AbortController();
      const stop = () => {
        progress('stopping after the chunk in flight (what landed stays; continue with --resume)...');
        controller.abort(new Error('interrupted'));
      };
      process.once('SIGINT', stop);
      let report: FullLoadReport;
      try {
        const connect = requireErp(platform);
        progress(`aurora erp full-load: ${tables.length} tables, lake ${platform.storage.description}`);
        report = await runFullLoad(
          {
            lake: platform.storage.lake,
            checkpoints: platform.checkpoints,
            clock: systemClock,
            log: ctx.log,
            sealer: platform.privacy.ring,
            connect,
            timeZone: ctx.config.erp.timeZone,
            chunkRows: ctx.config.erp.chunkRows,
            retryDelaysMs: ctx.config.retryDelaysMs,
            signal: controller.signal,
            onProgress: (p) => {
              const rate = p.elapsedMs > 0 ? (p.rowsThisRun / p.elapsedMs) * 1000 : 0;
              progress(
                `${p.table.padEnd(34)} chunk ${String(p.chunk).padStart(5)}/${p.chunks}  ${n(p.rows).padStart(11)} of ~${n(p.plannedRows)} rows  ${n(rate).padStart(8)} rows/s${p.recovered ? '  (landed before the crash; not landed again)' : ''}`,
              );
            },
          },
          { tables, resume: opts.resume === true },
        );
      } finally {
        process.removeListener('SIGINT', stop);
        await platform.close();
      }
      if (opts.json) ctx.out(JSON.stringify(report, null, 2));
      else {
        for (const t of report.tables)
          ctx.out(
            `${t.table.padEnd(34)} ${t.alreadyComplete ? 'already complete' : t.completed ? 'complete' : 'UNFINISHED'}  ${n(t.rows).padStart(11)} rows in ${n(t.files)} files (${t.chunks} chunks, this run ${n(t.rowsLanded)} rows${t.resumedAt > 0 && !t.alreadyComplete ? `, resumed at chunk ${t.resumedAt + 1}` : ''}${t.chunksRecovered ? `, ${t.chunksRecovered} recovered` : ''})  SCN ${t.scn}  load ${t.loadId}${t.cdc ? `  CDC: ${t.cdc.action}` : ''}${t.deadLettered ? `  ${n(t.deadLettered)} rows dead-lettered` : ''}`,
          );
        ctx.out(report.summary);
        const rate = report.durationMs > 0 ? (report.rowsLanded / report.durationMs) * 1000 : 0;
        ctx.out(
          `${report.ok ? 'OK' : 'FAILED'}: ${n(report.rowsLanded)} rows in ${(report.durationMs / 1000).toFixed(1)} s (${n(rate)} rows/s)`,
        );
      }
      process.exitCode = report.ok ? 0 : 1;
    });

  erp
    .command('verify-load')
    .description(
      'check the full load: every landed row against its _row_sha256 and, where reachable, against the source',
    )
    .option('--table <OWNER.TABLE>', 'verify only this table (repeatable)', collect, [] as string[])
    .option('--limit <n>', 'print at most n mismatches (all are counted)', '100')
    .option('--at <time>', 'the simulated plant as of this time, ISO 8601 (stand-in only; default now)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      [
        '',
        'For the latest full load of each table: recomputes the SHA-256 of every landed bronze row from its',
        'columns (the canonical text the source hashed) and compares it with _row_sha256; where the source is',
        'reachable, reads the same key ranges AS OF the load SCN with a fresh source-side checksum and compares',
        'row by row (missing, extra and differing rows). A mismatch is printed as',
        '  MISMATCH <table> <key> <side>: <problem>',
        'side lake: the landed row changed after landing, or is missing or doubled; side source: the source row',
        "differs from what was landed, or is gone. The source side needs the undo for the load SCN (Oracle's",
        'UNDO_RETENTION); when it is gone, the lake side is still checked and the reason is printed.',
        'Personal data landed sealed: it is opened with the privacy key ring before hashing. A row of an erased',
        'subject cannot be rehashed by design; it is counted as erased, not as a mismatch.',
        'The whole report (with up to 1,000 mismatches) lands in the lake as',
        'reports/erp-verify-load/year=/month=/day=/verify-load_{timestamp}.json; its path is printed.',
        'Exit 1 on any mismatch, when a named table has no full load, or when there is nothing to verify.',
      ].join('\n'),
    )
    .action(async (opts: { table: string[]; limit: string; at?: string; json?: boolean }) => {
      const ctx = cliContext();
      const limit = Number(opts.limit);
      if (!(Number.isInteger(limit) && limit >= 0))
        throw new UsageError('--limit must be a non-negative integer');
      const tables = pickTables(configuredTables(ctx), opts.table);
      const platform = await openPlatform(ctx, opts.at);
      const at = new Date();
      let report: Awaited<ReturnType<typeof verifyFullLoad>>;
      let reportPath: string;
      let unloaded: typeof report.tables;
      try {
        report = await verifyFullLoad(
          {
            lake: platform.storage.lake,
            checkpoints: platform.checkpoints,
            codec: platform.codec,
            log: ctx.log,
            ...(platform.erp.connect ? { connect: platform.erp.connect } : {}),
            opener: platform.privacy.ring,
            timeZone: ctx.config.erp.timeZone,
            onProgress: (p) =>
              process.stderr.write(`${p.table.padEnd(34)} chunk ${p.chunk}/${p.chunks}  ${n(p.rows)} rows\n`),
          },
          { tables, maxMismatches: Math.max(limit, MISMATCHES_KEPT) },
        );
        unloaded = opts.table.length > 0 ? report.tables.filter((t) => !t.loaded) : [];
        reportPath = await writeLakeReport(platform.storage.lake, reportPaths.erpVerifyLoad, at, {
          check: 'erp-verify-load',
          at: at.toISOString(),
          tablesAsked: opts.table,
          ...report,
          ok: report.ok && unloaded.length === 0,
        });
      } finally {
        await platform.close();
      }
      const ok = report.ok && unloaded.length === 0;
      if (opts.json)
        ctx.out(
          JSON.stringify(
            { ...report, mismatches: report.mismatches.slice(0, Math.max(limit, 1)), ok, reportPath },
            null,
            2,
          ),
        );
      else {
        for (const m of report.mismatches.slice(0, limit))
          ctx.out(
            `MISMATCH ${m.table} ${m.key || '-'} ${m.side}: ${m.problem}${m.file ? ` (${m.file})` : ''}`,
          );
        if (report.mismatchCount > limit)
          ctx.out(`... and ${n(report.mismatchCount - limit)} more mismatches`);
        for (const t of report.tables) {
          if (!t.loaded) {
            ctx.out(
              `${t.table.padEnd(34)} no full load${opts.table.length > 0 ? ' (FAILED: asked for)' : ''}`,
            );
            continue;
          }
          ctx.out(
            `${t.table.padEnd(34)} ${t.completed ? 'complete' : 'unfinished'} load ${t.loadId}  ${n(t.rows).padStart(11)} rows in ${n(t.files)} files  ${t.mismatches} mismatches${t.erased ? `  ${n(t.erased)} rows of erased subjects` : ''}  source ${t.sourceChecked ? 'checked' : `not checked: ${t.sourceSkipped}`}`,
          );
        }
        ctx.out(report.summary);
        ctx.out(`report: ${reportPath}`);
        ctx.out(ok ? 'OK' : 'FAILED');
      }
      process.exitCode = ok ? 0 : 1;
    });
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** How many mismatches the lake report of verify-load keeps (all are counted). */
const MISMATCHES_KEPT = 1000;

async function openPlatform(ctx: CliContext, at: string | undefined): Promise<LocalPlatform> {
  let plantClock: Clock = systemClock;
  if (at !== undefined) {
    const when = new Date(at);
    if (Number.isNaN(when.getTime())) throw new UsageError(`--at must be an ISO 8601 time, got "${at}"`);
    plantClock = new ManualClock(when);
  }
  return LocalPlatform.open({
    config: ctx.config,
    log: ctx.log,
    clock: systemClock,
    mode: 'one-shot',
    plantClock,
  });
}

const configuredTables = (ctx: CliContext) =>
  ctx.config.erp.tables ? parseErpTables(ctx.config.erp.tables) : DEFAULT_ERP_TABLES;

function requireErp(platform: LocalPlatform) {
  const connect = platform.erp.connect;
  if (!connect)
    throw new UsageError(
      'no ERP to load from: set AURORA_ERP_CONNECT_STRING and AURORA_ERP_USER, or simulate the plant (AURORA_SIMULATE)',
    );
  return connect;
}

/** The configured tables the user named (OWNER.TABLE, TABLE or the bronze name), or all of them. */
export function pickTables(
  configured: readonly ErpTableConfig[],
  names: readonly string[],
): ErpTableConfig[] {
  if (names.length === 0) return [...configured];
  return names.map((raw) => {
    const wanted = raw.trim().toUpperCase();
    const hit = configured.find(
      (t) => qualifiedName(t) === wanted || t.name === wanted || bronzeTableName(t) === raw.trim(),
    );
    if (!hit)
      throw new UsageError(
        `--table ${raw}: not one of the configured ERP tables (${configured.map(qualifiedName).join(', ')}); AURORA_ERP_TABLES sets them`,
      );
    return hit;
  });
}
