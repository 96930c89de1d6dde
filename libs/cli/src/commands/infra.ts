import { UsageError } from '@aurora/core';
import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { registerSynapseDdl } from './synapse-ddl.js';

const STACKS = ['dev', 'staging', 'prod'] as const;

export function registerInfra(program: Command): void {
  const infra = program.command('infra').description('the Azure platform as Pulumi declares it');
  infra
    .command('inventory')
    .description(
      'print every resource of a stack with its resolved inputs, as JSON (offline, through Pulumi mocks)',
    )
    .requiredOption('--stack <stack>', `one of ${STACKS.join(', ')}`)
    .action(async (opts: { stack: string }) => {
      const ctx = cliContext();
      if (!STACKS.includes(opts.stack as never))
        throw new UsageError(`--stack must be one of ${STACKS.join(', ')}, got "${opts.stack}"`);
      // Loaded on demand: the Pulumi SDK is heavy, and only this command needs it.
      const { buildInventory } = await import('@aurora/infra/inventory');
      ctx.out(JSON.stringify(await buildInventory(opts.stack as (typeof STACKS)[number]), null, 2));
    });
  registerSynapseDdl(infra);
}
