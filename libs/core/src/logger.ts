import { pino } from 'pino';
import { scrubSecrets } from './secrets.js';

export type Logger = pino.Logger;
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  level: LogLevel;
  name?: string;
  /** Where JSON lines go; default stderr, so that stdout stays free for command output. */
  destination?: pino.DestinationStream;
}

/**
 * Structured JSON logging with stable event names: `log.info({ event: 'ingest.batch.landed', rows }, '...')`.
 * Secrets never reach a log line: the usual credential fields are redacted by name, and every value a
 * secret provider has handed out is scrubbed from the finished line, whatever field or message holds it.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: options.name === undefined ? null : { name: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'connectionString',
          '*.connectionString',
          'password',
          '*.password',
          'accountKey',
          '*.accountKey',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'apiKey',
          '*.apiKey',
          'clientSecret',
          '*.clientSecret',
          'client_secret',
          '*.client_secret',
        ],
        censor: '[redacted]',
      },
      hooks: { streamWrite: scrubSecrets },
    },
    options.destination ?? pino.destination(2),
  );
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
