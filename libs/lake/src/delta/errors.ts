import { AuroraError, type AuroraErrorOptions } from '@aurora/core';

/**
 * Another writer committed the version this writer meant to commit. Carries the lake's conflict code so
 * callers that branch on `code` treat it like any lost conditional write: re-read the snapshot and retry.
 */
export class DeltaConcurrentCommitError extends AuroraError {
  constructor(
    readonly location: string,
    readonly version: number,
    options: AuroraErrorOptions = {},
  ) {
    super('lake.conflict', `Delta table ${location}: version ${version} was committed by another writer`, {
      ...options,
      details: { location, version },
    });
  }
}

/** There is no Delta log under the location (no commit and no checkpoint). */
export class DeltaTableNotFoundError extends AuroraError {
  constructor(
    readonly location: string,
    options: AuroraErrorOptions = {},
  ) {
    super('lake.not_found', `no Delta table at ${location} (no _delta_log commits)`, {
      ...options,
      details: { location },
    });
  }
}

/** The log cannot be replayed: unparsable JSON, a gap between versions, an unreadable checkpoint. */
export class DeltaLogCorruptError extends AuroraError {
  constructor(location: string, problem: string, options: AuroraErrorOptions = {}) {
    super('lake.corrupt', `Delta log of ${location} is unreadable: ${problem}`, {
      ...options,
      details: { location, problem },
    });
  }
}

/** A file the log lists as active is missing from the lake (deleted outside the log, or vacuumed). */
export class DeltaDataFileMissingError extends AuroraError {
  constructor(location: string, path: string, version: number, options: AuroraErrorOptions = {}) {
    super('lake.not_found', `Delta table ${location} v${version}: data file ${path} is missing`, {
      ...options,
      details: { location, path, version },
    });
  }
}

/** The snapshot asked for (a version or a timestamp) is not in the log that remains. */
export class DeltaVersionNotFoundError extends AuroraError {
  constructor(location: string, problem: string, options: AuroraErrorOptions = {}) {
    super('usage.invalid', `Delta table ${location}: ${problem}`, { ...options, details: { location } });
  }
}

/** The table needs a reader or writer feature this implementation does not have. */
export class DeltaUnsupportedError extends AuroraError {
  constructor(location: string, problem: string, options: AuroraErrorOptions = {}) {
    super('usage.invalid', `Delta table ${location}: ${problem}`, { ...options, details: { location } });
  }
}
