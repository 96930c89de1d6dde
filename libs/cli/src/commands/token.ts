import { LocalIssuer, ROLES, type Role } from '@aurora/api';
import { systemClock, UsageError } from '@aurora/core';
import { catalogue } from '@aurora/plant';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

/** `90`, `90s`, `15m`, `8h`, `7d` as seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--expires-in must be like 3600, 15m, 8h or 7d, got "${text}"`);
  const seconds =
    Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86_400 } as const)[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (seconds < 1 || seconds > 30 * 86_400)
    throw new UsageError('--expires-in must be between 1 s and 30 days');
  return seconds;
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('print a bearer token from the local issuer for the API (key pair in $AURORA_HOME/api/)')
    .requiredOption('--role <role>', `the caller's role: ${ROLES.join(', ')}`)
    .option(
      '--facility <id>',
      'restrict the caller to a facility (repeatable; default: every facility)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--expires-in <duration>', 'lifetime: seconds, or 15m, 8h, 7d', '1h')
    .option('--subject <sub>', 'the sub claim (default: local:<role>)')
    .addHelpText(
      'after',
      '\nExample:\n  curl -H "Authorization: Bearer $(pnpm -s aurora token --role analyst --facility augsburg)" \\\n    http://127.0.0.1:7071/api/v1/production/oee/augsburg',
    )
    .action(async (opts: { role: string; facility: string[]; expiresIn: string; subject?: string }) => {
      const ctx = cliContext();
      if (!(ROLES as string[]).includes(opts.role))
        throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${opts.role}"`);
      const known = catalogue.facilities.map((f) => f.id as string);
      const unknown = opts.facility.filter((f) => !known.includes(f));
      if (unknown.length > 0)
        throw new UsageError(`unknown facility ${unknown.join(', ')}: one of ${known.join(', ')}`);
      if (ctx.config.api.auth)
        ctx.log.warn(
          { event: 'token.local_issuer_ignored' },
          'AURORA_API_ISSUER is set: the API verifies Entra ID tokens and will refuse this local one',
        );
      const issuer = await LocalIssuer.open(ctx.config.home, systemClock);
      ctx.out(
        await issuer.sign({
          roles: [opts.role as Role],
          facilities: opts.facility,
          expiresInS: parseDuration(opts.expiresIn),
          ...(opts.subject ? { subject: opts.subject } : {}),
        }),
      );
    });
}
