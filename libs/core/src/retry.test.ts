import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { AuroraError, SourceDataError, SourceUnavailableError } from './errors.js';
import { RetriesExhaustedError, retry } from './retry.js';

describe('retry', () => {
  it('waits 30 s, 60 s, 120 s between attempts by default and returns the first success', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 4) throw new SourceUnavailableError('MES down');
        return 'ok';
      },
      { sleep: clock.sleep },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(clock.sleeps).toEqual([30_000, 60_000, 120_000]);
    expect(clock.now().toISOString()).toBe('2026-01-01T00:03:30.000Z');
  });

  it('gives up after the last delay with the failure code kept', async () => {
    const clock = new ManualClock();
    const failure = retry(
      async () => {
        throw new SourceUnavailableError('still down');
      },
      { sleep: clock.sleep, delaysMs: [1, 2] },
    );
    await expect(failure).rejects.toBeInstanceOf(RetriesExhaustedError);
    await expect(failure).rejects.toMatchObject({ code: 'source.unavailable', attempts: 3 });
    expect(clock.sleeps).toEqual([1, 2]);
  });

  it('never retries bad data', async () => {
    const clock = new ManualClock();
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new SourceDataError('row 7 has no key');
        },
        { sleep: clock.sleep },
      ),
    ).rejects.toMatchObject({ code: 'source.data_invalid' });
    expect(calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('normalises foreign throws into internal errors, which are not retried', async () => {
    await expect(
      retry(async () => {
        throw 'a string';
      }),
    ).rejects.toSatisfy((e: unknown) => e instanceof AuroraError && e.code === 'internal');
  });

  it('reports each retry', async () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    let calls = 0;
    await retry(
      async () => {
        if (++calls < 3) throw new SourceUnavailableError('x');
      },
      { sleep: clock.sleep, onRetry: (e) => seen.push(e.attempt) },
    );
    expect(seen).toEqual([1, 2]);
  });
});
