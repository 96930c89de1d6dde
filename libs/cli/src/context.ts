import { type AuroraConfig, createLogger, type Logger, loadConfig } from '@aurora/core';

export interface CliContext {
  config: AuroraConfig;
  log: Logger;
  out: (line: string) => void;
}

/**
 * Reads the configuration once per command. Logs go to stderr as JSON; commands that print results keep
 * stdout for them. Unless AURORA_LOG_LEVEL says otherwise, only warnings are logged.
 */
export function cliContext(env: Record<string, string | undefined> = process.env): CliContext {
  const config = loadConfig(env);
  const level = env['AURORA_LOG_LEVEL'] ? config.logLevel : 'warn';
  return {
    config,
    log: createLogger({ level, name: 'aurora' }),
    out: (line) => process.stdout.write(`${line}\n`),
  };
}
