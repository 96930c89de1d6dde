import { describe, expect, it } from 'vitest';
import { GoldMemo } from './gold-memo.js';
import type { GoldReader } from './gold-reader.js';

/** A reader whose snapshot identity the test sets (queries are not used by the memo itself). */
function reader(snapshot: { id: string | undefined }): GoldReader {
  return {
    dialect: 'duckdb',
    query: async () => [],
    close: async () => {},
    snapshot: async () => snapshot.id,
  };
}

describe('GoldMemo', () => {
  it('computes once per key while the snapshot is the same, and again when it changes', async () => {
    const snap = { id: 'file-1' as string | undefined };
    const memo = new GoldMemo(() => reader(snap));
    let computed = 0;
    const compute = async () => ({ n: ++computed, nested: { list: [1, 2] } });
    const a = await memo.get('k', compute);
    const b = await memo.get('k', compute);
    expect(b).toBe(a);
    expect(computed).toBe(1);
    expect((await memo.get('other', compute)).n).toBe(2);
    snap.id = 'file-2'; // a medallion run replaced the warehouse
    const c = await memo.get('k', compute);
    expect(c.n).toBe(3);
    expect([memo.hits, memo.misses]).toEqual([1, 3]);
  });

  it('shares one computation between concurrent callers', async () => {
    const memo = new GoldMemo(() => reader({ id: 's' }));
    let computed = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const compute = async () => {
      computed++;
      await gate;
      return { ok: true };
    };
    const all = Promise.all(Array.from({ length: 10 }, () => memo.get('k', compute)));
    release();
    const answers = await all;
    expect(computed).toBe(1);
    expect(new Set(answers).size).toBe(1);
  });

  it('keeps no failure: the next call computes again', async () => {
    const memo = new GoldMemo(() => reader({ id: 's' }));
    await expect(
      memo.get('k', async () => {
        throw new Error('warehouse busy');
      }),
    ).rejects.toThrow('warehouse busy');
    expect(await memo.get('k', async () => 42)).toBe(42);
  });

  it('memoizes nothing for a reader that cannot tell whether gold changed (Synapse)', async () => {
    const memo = new GoldMemo(() => reader({ id: undefined }));
    let computed = 0;
    await memo.get('k', async () => ++computed);
    await memo.get('k', async () => ++computed);
    expect(computed).toBe(2);
  });

  it('answers are deep-frozen: a caller cannot change what the next one gets', async () => {
    const memo = new GoldMemo(() => reader({ id: 's' }));
    const answer = await memo.get('k', async () => ({ figures: { oee: 0.5 }, machines: [{ id: 'm' }] }));
    expect(() => {
      (answer.figures as { oee: number }).oee = 1;
    }).toThrow(TypeError);
    expect(Object.isFrozen(answer.machines[0])).toBe(true);
  });

  it('is bounded: the least recently used answer is computed again', async () => {
    const memo = new GoldMemo(() => reader({ id: 's' }), 2);
    let computed = 0;
    const compute = async () => ++computed;
    await memo.get('a', compute);
    await memo.get('b', compute);
    await memo.get('c', compute);
    expect(await memo.get('a', compute)).toBe(4);
  });
});
