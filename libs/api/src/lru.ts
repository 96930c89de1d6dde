/**
 * A bounded map that forgets the least recently used entry first: what the API's memos keep in memory
 * (computed answers, verified tokens, shift boundaries) never grows past `max` entries.
 */
export class Lru<K, V> {
  readonly #map = new Map<K, V>();

  constructor(
    readonly max: number,
    /** Called with each entry the bound pushes out (not with deleted or replaced ones). */
    private readonly onEvict?: (value: V, key: K) => void,
  ) {
    if (!(max >= 1)) throw new RangeError(`an LRU holds at least one entry, got ${max}`);
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined) return undefined;
    // Re-insert: a Map iterates in insertion order, so the first key is always the least recently used.
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.max) {
      const oldest = this.#map.keys().next().value as K;
      const evicted = this.#map.get(oldest) as V;
      this.#map.delete(oldest);
      this.onEvict?.(evicted, oldest);
    }
  }

  delete(key: K): void {
    this.#map.delete(key);
  }

  values(): IterableIterator<V> {
    return this.#map.values();
  }
}
