import { AuroraError } from '@aurora/core';
import { Command, CommanderError } from 'commander';
import { registerDq } from './commands/dq.js';
import { registerErp } from './commands/erp.js';
import { registerInfra } from './commands/infra.js';
import { registerIot } from './commands/iot.js';
import { registerLake } from './commands/lake.js';
import { registerPipelines } from './commands/pipelines.js';
import { registerPrivacy } from './commands/privacy.js';
import { registerQuery } from './commands/query.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerRun } from './commands/run.js';
import { registerSimulate } from './commands/simulate.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerToken } from './commands/token.js';

// `aurora lake ls | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = new Command('aurora')
  .description('Aurora, the plant data platform: drive the local platform and inspect the lake.')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nConfiguration comes from AURORA_* environment variables; see the README. State lives under AURORA_HOME (.aurora/).',
  );
registerStart(program);
registerRun(program);
registerStatus(program);
registerToken(program);
registerLake(program);
registerPipelines(program);
registerQuery(program);
registerReconcile(program);
registerDq(program);
registerPrivacy(program);
registerErp(program);
registerInfra(program);
registerIot(program);
registerSimulate(program);

program.parseAsync(process.argv).then(
  () => {
    // Lingering sockets (MQTT reconnect timers, keep-alive agents) must not keep a finished command alive.
    setTimeout(() => process.exit(), 200).unref();
  },
  (error: unknown) => {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`aurora: ${message}\n`);
    const code = error instanceof AuroraError && error.kind === 'config' ? 2 : 1;
    process.exit(code);
  },
);
