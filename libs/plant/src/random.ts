/**
 * Deterministic randomness: every simulated value is a pure function of (seed, stream, index), so a
 * reading can be regenerated on its own without replaying everything before it.
 */

/** 32-bit FNV-1a of a string, to turn names into stream ids. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A uniform number in [0, 1) from three integers (a splitmix/murmur-style finaliser). */
export function unit(seed: number, stream: number, index: number): number {
  let h = (seed ^ Math.imul(stream, 0x9e3779b1) ^ Math.imul(index, 0x85ebca77)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A standard normal deviate (Box-Muller over two uniforms of the same key). */
export function normal(seed: number, stream: number, index: number): number {
  const u1 = Math.max(unit(seed, stream, index * 2), Number.EPSILON);
  const u2 = unit(seed, stream, index * 2 + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}
