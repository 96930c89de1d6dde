/**
 * Aurora's closed error taxonomy. Branch on `code`, never on message text: class identity is lost
 * across process and activity boundaries, the code survives serialisation.
 */
export type AuroraErrorCode =
  | 'config.invalid'
  | 'source.unavailable'
  | 'source.data_invalid'
  | 'lake.unavailable'
  | 'lake.conflict'
  | 'lake.not_found'
  | 'lake.corrupt'
  | 'checkpoint.conflict'
  | 'usage.invalid'
  | 'internal';

/** How a caller should react: retry later, quarantine the data (never retry), or fix configuration. */
export type ErrorKind = 'transient' | 'data' | 'config' | 'conflict' | 'fatal';

const kindByCode: Record<AuroraErrorCode, ErrorKind> = {
  'config.invalid': 'config',
  'source.unavailable': 'transient',
  'source.data_invalid': 'data',
  'lake.unavailable': 'transient',
  'lake.conflict': 'conflict',
  'lake.not_found': 'fatal',
  'lake.corrupt': 'data',
  'checkpoint.conflict': 'conflict',
  'usage.invalid': 'config',
  internal: 'fatal',
};

export interface AuroraErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class AuroraError extends Error {
  readonly code: AuroraErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: AuroraErrorCode, message: string, options: AuroraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }

  get kind(): ErrorKind {
    return kindByCode[this.code];
  }

  get retryable(): boolean {
    return this.kind === 'transient';
  }

  /** A plain object that survives JSON (activity boundaries, dead-letter records, logs). */
  toJSON(): { code: AuroraErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export class ConfigError extends AuroraError {
  constructor(
    message: string,
    readonly issues: readonly { variable: string; problem: string }[],
  ) {
    super('config.invalid', message, { details: { issues } });
  }
}

export class SourceUnavailableError extends AuroraError {
  constructor(message: string, options: AuroraErrorOptions = {}) {
    super('source.unavailable', message, options);
  }
}

export class SourceDataError extends AuroraError {
  constructor(message: string, options: AuroraErrorOptions = {}) {
    super('source.data_invalid', message, options);
  }
}

export class UsageError extends AuroraError {
  constructor(message: string, options: AuroraErrorOptions = {}) {
    super('usage.invalid', message, options);
  }
}

/** Wraps anything thrown into an AuroraError exactly once; AuroraErrors pass through unchanged. */
export function toAuroraError(error: unknown): AuroraError {
  if (error instanceof AuroraError) return error;
  if (error instanceof Error) return new AuroraError('internal', error.message, { cause: error });
  return new AuroraError('internal', `non-error thrown: ${String(error)}`, { cause: error });
}
