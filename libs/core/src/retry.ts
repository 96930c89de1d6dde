import { sleep as realSleep, type Sleep } from './clock.js';
import { AuroraError, toAuroraError } from './errors.js';

/** Source outages are retried after 30 s, 60 s and 120 s, then given up (dead-lettered and alerted). */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [30_000, 60_000, 120_000];

export interface RetryOptions {
  /** Delay before each retry; its length is the number of retries. */
  delaysMs?: readonly number[];
  sleep?: Sleep;
  signal?: AbortSignal;
  /** Which failures are worth another attempt. Default: AuroraErrors whose kind is transient. */
  isRetryable?: (error: AuroraError) => boolean;
  onRetry?: (event: { attempt: number; delayMs: number; error: AuroraError }) => void;
}

export class RetriesExhaustedError extends AuroraError {
  constructor(
    readonly attempts: number,
    readonly lastError: AuroraError,
  ) {
    super(lastError.code, `gave up after ${attempts} attempts: ${lastError.message}`, {
      cause: lastError,
      details: { attempts, ...lastError.details },
    });
  }
}

/**
 * Runs `operation` until it succeeds, retrying transient failures after each delay in turn.
 * Non-retryable failures are rethrown at once; when the delays run out a RetriesExhaustedError carries
 * the last failure's code.
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const delays = options.delaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const wait = options.sleep ?? realSleep;
  const isRetryable = options.isRetryable ?? ((e: AuroraError) => e.retryable);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (thrown) {
      const error = toAuroraError(thrown);
      if (!isRetryable(error)) throw error;
      const delayMs = delays[attempt - 1];
      if (delayMs === undefined) throw new RetriesExhaustedError(attempt, error);
      options.onRetry?.({ attempt, delayMs, error });
      await wait(delayMs, options.signal);
    }
  }
}
