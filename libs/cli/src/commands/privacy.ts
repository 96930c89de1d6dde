import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { systemClock, UsageError } from '@aurora/core';
import { openWarehouse } from '@aurora/engine';
import { openStorage, type PlatformStorage } from '@aurora/platform';
import {
  type Certificate,
  exportDocument,
  Guardian,
  openPrivacy,
  type Privacy,
  type Reader,
  type RequestOutcome,
} from '@aurora/privacy';
import type { Command } from 'commander';
import { type CliContext, cliContext } from '../context.js';
import { formatTable } from './query.js';

const reader = (command: string): Reader => ({
  actor: `cli:${userInfo().username}`,
  roles: ['cli'],
  through: `aurora privacy ${command}`,
});

/** Opens storage, keys and (when the request needs it) the warehouse; closes them after `use`. */
async function withGuardian<T>(
  ctx: CliContext,
  use: (guardian: Guardian, privacy: Privacy, storage: PlatformStorage) => Promise<T>,
  options: { warehouse: boolean } = { warehouse: true },
): Promise<T> {
  const storage = await openStorage(ctx.config, 'ephemeral');
  const warehouse = options.warehouse ? await openWarehouse(ctx.config.home) : undefined;
  try {
    const privacy = await openPrivacy(ctx.config, storage, systemClock);
    const guardian = new Guardian({
      ...privacy,
      lake: storage.lake,
      clock: systemClock,
      deadlineH: ctx.config.privacy.deadlineH,
      search: {
        query: async (sql) => {
          if (!warehouse) throw new UsageError('this command does not search the warehouse');
          return (await warehouse.query(sql)).rows;
        },
      },
    });
    return await use(guardian, privacy, storage);
  } finally {
    warehouse?.close();
    await storage.close();
  }
}

function printOutcome(ctx: CliContext, outcome: RequestOutcome, showData: boolean): void {
  const { request, certificate, data } = outcome;
  process.stderr.write(
    `request ${request.id} (${request.type}, subject ${request.subject}, due by ${request.dueBy})\n`,
  );
  if (showData) {
    if (data.tables.length === 0)
      ctx.out(
        data.key === 'erased'
          ? `subject ${data.subject}: erased; nothing personal remains readable`
          : `subject ${data.subject}: no data found in silver or gold`,
      );
    for (const t of data.tables) {
      ctx.out(`${t.table} (${t.rows.length} row${t.rows.length === 1 ? '' : 's'})`);
      const columns = Object.keys(t.rows[0] ?? {}).map((name) => ({ name }));
      for (const line of formatTable(columns, t.rows).slice(0, -1)) ctx.out(`  ${line}`);
    }
  }
  for (const action of certificate.certificate.actions) process.stderr.write(`- ${action}\n`);
  process.stderr.write(
    `certificate privacy/certificates/${request.id}.json  sha256 ${certificate.sha256}\n` +
      `verify it with: pnpm aurora privacy verify ${request.id}\n`,
  );
}

const SUBJECT_HELP =
  'the data subject: <kind>:<id in its system>, e.g. erp-party:50012 (a customer contact), ' +
  'erp-supplier-contact:9001, sap-vendor:0000100003, sap-user:BUYER01';

export function registerPrivacy(program: Command): void {
  const privacy = program
    .command('privacy')
    .description(
      'GDPR data-subject requests (Guardian): access, export, delete (crypto-shredding), certificates, audit',
    )
    .addHelpText(
      'after',
      '\nPersonal data is encrypted at landing with a data key per subject; see docs/privacy.md.\n' +
        'Each request is recorded with a 72-hour deadline (AURORA_PRIVACY_DEADLINE_H) and ends with a\n' +
        'compliance certificate in the lake (privacy/certificates/<id>.json).',
    );

  privacy
    .command('access')
    .description('print everything silver and gold hold about a subject, decrypted (the read is audited)')
    .requiredOption('--subject <id>', SUBJECT_HELP)
    .option('--json', 'print the subject data and the certificate as JSON')
    .action(async (opts: { subject: string; json?: boolean }) => {
      const ctx = cliContext();
      await withGuardian(ctx, async (guardian) => {
        const outcome = await guardian.access(opts.subject, reader('access'));
        if (opts.json)
          ctx.out(JSON.stringify({ data: outcome.data, certificate: outcome.certificate }, null, 2));
        else printOutcome(ctx, outcome, true);
      });
    });

  privacy
    .command('export')
    .description(
      'write the subject data as one JSON document (portability); the file holds personal data in clear',
    )
    .requiredOption('--subject <id>', SUBJECT_HELP)
    .option('--out <file>', 'where to write the export (default: stdout)')
    .action(async (opts: { subject: string; out?: string }) => {
      const ctx = cliContext();
      await withGuardian(ctx, async (guardian) => {
        const outcome = await guardian.export(opts.subject, reader('export'));
        const text = `${JSON.stringify(exportDocument(outcome.data), null, 2)}\n`;
        if (opts.out) {
          await writeFile(opts.out, text, { mode: 0o600 });
          process.stderr.write(`export written to ${opts.out}\n`);
        } else process.stdout.write(text);
        printOutcome(ctx, outcome, false);
      });
    });

  privacy
    .command('delete')
    .description(
      'erase a subject: destroy its data key (bronze and backups become unreadable); silver and gold drop the values on the next run',
    )
    .requiredOption('--subject <id>', SUBJECT_HELP)
    .option('--json', 'print the certificate as JSON')
    .action(async (opts: { subject: string; json?: boolean }) => {
      const ctx = cliContext();
      await withGuardian(ctx, async (guardian) => {
        const outcome = await guardian.delete(opts.subject, reader('delete'));
        if (opts.json) ctx.out(JSON.stringify(outcome.certificate, null, 2));
        else printOutcome(ctx, outcome, false);
      });
    });

  privacy
    .command('verify')
    .description(
      'check a compliance certificate: its SHA-256, the copy in the lake, and for an erasure the destroyed key',
    )
    .argument('<certificate>', 'a certificate file (JSON) or a request id (dsr-YYYYMMDD-xxxxxxxx)')
    .action(async (source: string) => {
      const ctx = cliContext();
      const problems = await withGuardian(
        ctx,
        async (guardian) => {
          let certificate: unknown;
          if (/^dsr-\d{8}-[0-9a-f]{8}$/.test(source)) certificate = await guardian.certificate(source);
          else {
            const text = await readFile(source, 'utf8').catch(() => {
              throw new UsageError(`cannot read ${source}: give a certificate file or a request id`);
            });
            try {
              certificate = JSON.parse(text);
            } catch {
              throw new UsageError(`${source} is not JSON`);
            }
          }
          const found = await guardian.verify(certificate);
          const id = (certificate as Certificate).certificate?.id;
          if (found.length === 0)
            ctx.out(`certificate ${id} is valid (sha256 ${(certificate as Certificate).sha256})`);
          return found;
        },
        { warehouse: false },
      );
      if (problems.length > 0) {
        for (const p of problems) ctx.out(`INVALID: ${p}`);
        process.exitCode = 1;
      }
    });

  privacy
    .command('requests')
    .description('list data-subject requests with their deadlines (open, done, overdue)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const ctx = cliContext();
      await withGuardian(
        ctx,
        async (guardian) => {
          const list = await guardian.requests();
          if (opts.json) ctx.out(JSON.stringify(list, null, 2));
          else
            for (const line of formatTable(
              ['id', 'type', 'subject', 'receivedAt', 'dueBy', 'completedAt', 'state'].map((name) => ({
                name,
              })),
              list as unknown as Record<string, unknown>[],
            ))
              ctx.out(line);
          if (list.some((r) => r.state === 'overdue')) process.exitCode = 1;
        },
        { warehouse: false },
      );
    });

  privacy
    .command('audit')
    .description('list the audit log of personal-data reads (who, which subject, when, through what)')
    .option('--subject <id>', 'only the reads of this subject')
    .option('--json', 'print as JSON')
    .action(async (opts: { subject?: string; json?: boolean }) => {
      const ctx = cliContext();
      await withGuardian(
        ctx,
        async (_guardian, { ring, audit }) => {
          const keyId = opts.subject ? ring.keyIdOf(opts.subject) : undefined;
          const entries = [];
          for await (const e of audit.entries(keyId ? { keyId } : {})) entries.push(e);
          if (opts.json) ctx.out(JSON.stringify(entries, null, 2));
          else
            for (const line of formatTable(
              ['at', 'actor', 'through', 'action', 'keyId', 'values', 'requestId'].map((name) => ({ name })),
              entries as unknown as Record<string, unknown>[],
            ))
              ctx.out(line);
        },
        { warehouse: false },
      );
    });
}
