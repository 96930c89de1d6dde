/**
 * Latencies counted into fixed buckets: every message is recorded, and the memory it takes is allocated
 * once, up front, so measuring freshness does not itself make the heap grow during a memory measurement.
 */
export class LatencyHistogram {
  readonly #counts: Uint32Array;
  #count = 0;
  #maxMs = 0;

  constructor(
    readonly bucketMs = 5,
    readonly limitMs = 300_000,
  ) {
    this.#counts = new Uint32Array(Math.ceil(limitMs / bucketMs));
  }

  get count(): number {
    return this.#count;
  }

  get maxMs(): number {
    return this.#maxMs;
  }

  /** Negative or non-finite values (a clock ahead of ours, an unparseable event time) are not counted. */
  record(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    this.#count++;
    if (ms > this.#maxMs) this.#maxMs = ms;
    const bucket = Math.floor(ms / this.bucketMs);
    // Beyond the limit only the count and the maximum are kept.
    if (bucket < this.#counts.length) this.#counts[bucket]!++;
  }

  /**
   * The upper edge of the bucket holding the p-quantile (0 < p <= 1), so never below the true value; beyond
   * the histogram's limit, the largest value seen. NaN when nothing was recorded.
   */
  percentileMs(p: number): number {
    if (this.#count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(p * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min((i + 1) * this.bucketMs, this.#maxMs);
    }
    return this.#maxMs;
  }
}

/** Least-squares slope of y over x (units of y per unit of x); NaN for fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const meanX = points.reduce((s, p) => s + p.x, 0) / n;
  const meanY = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - meanX) * (p.y - meanY);
    sxx += (p.x - meanX) ** 2;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}
