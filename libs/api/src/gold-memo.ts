import type { GoldReader } from './gold-reader.js';
import { Lru } from './lru.js';

/** Freezes a JSON-shaped value and everything in it, so a memoized answer cannot be changed by a caller. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Answers computed from gold, kept while gold is the same: gold only changes when a medallion run
 * replaces the warehouse, so an answer is keyed by the reader's snapshot identity (locally the warehouse
 * file's device, inode, mtime and size) and a replaced file misses. Concurrent requests for the same key
 * share one computation; a failed one is not kept. A reader without a snapshot identity (Synapse) is never
 * memoized. Answers are deep-frozen: every caller gets the same object.
 */
export class GoldMemo {
  readonly #entries: Lru<string, Promise<unknown>>;
  hits = 0;
  misses = 0;

  constructor(
    private readonly gold: () => GoldReader,
    maxEntries = 256,
  ) {
    this.#entries = new Lru(maxEntries);
  }

  async get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const snapshot = await this.gold().snapshot?.();
    if (snapshot === undefined) return compute();
    const full = `${snapshot}\n${key}`;
    const known = this.#entries.get(full);
    if (known) {
      this.hits++;
      return known as Promise<T>;
    }
    this.misses++;
    const computing = compute().then(deepFreeze);
    this.#entries.set(full, computing);
    computing.catch(() => this.#entries.delete(full));
    return computing;
  }
}
