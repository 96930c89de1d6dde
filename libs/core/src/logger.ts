import { pino } from 'pino';

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
 * Secrets never reach a log line: the usual credential fields are redacted wherever they appear.
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
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination(2),
  );
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
