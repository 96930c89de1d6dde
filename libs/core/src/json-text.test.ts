import { describe, expect, it } from 'vitest';
import { jsonText } from './json-text.js';

const nested = (depth: number, leaf: unknown = 1) => {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
};

describe('jsonText', () => {
  it('writes what JSON.stringify writes for ordinary values', () => {
    const value = {
      s: 'quote " backslash \\ newline \n lone \ud800',
      n: [1, -0, 1.5e300, Number.NaN, Number.POSITIVE_INFINITY],
      b: true,
      z: null,
      u: undefined,
      f: () => 1,
      d: new Date('2026-11-23T08:00:00Z'),
      buf: Buffer.from('hi'),
      a: [undefined, () => 1, { x: undefined }],
      ['__proto__']: 'own',
    };
    expect(jsonText(value)).toBe(JSON.stringify(value));
    expect(jsonText(undefined)).toBeUndefined();
    expect(jsonText('x')).toBe('"x"');
  });

  it('writes 100,000 levels of nesting where JSON.stringify overflows the stack, with the same text', () => {
    const deep = nested(100_000);
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    const text = jsonText(deep)!;
    // 50,000 arrays `[]`, 50,000 objects `{"k":}` and the leaf.
    expect(text.length).toBe(50_000 * 2 + 50_000 * 6 + 1);
    expect(text.startsWith('{"k":[{"k":[')).toBe(true);
    // Parsing it back (JSON.parse does not recurse) gives the same structure.
    let back = JSON.parse(text) as unknown;
    for (let i = 100_000 - 1; i >= 0; i--)
      back = i % 2 === 0 ? (back as unknown[])[0] : (back as { k: unknown }).k;
    expect(back).toBe(1);
  });

  it('writes the careful way exactly what JSON.stringify writes, once the fast way has failed', () => {
    // A bigint anywhere sends the whole value down the careful path.
    const value = {
      id: 2n ** 64n,
      d: new Date(0),
      a: [undefined, Number.NaN, 'x'],
      o: { u: undefined, s: 's' },
    };
    expect(jsonText(value)).toBe(
      '{"id":"18446744073709551616","d":"1970-01-01T00:00:00.000Z","a":[null,null,"x"],"o":{"s":"s"}}',
    );
  });

  it('writes a cycle as "[Circular]" but a shared object as itself', () => {
    const shared = { v: 1 };
    const cyclic: Record<string, unknown> = { a: shared, b: shared };
    cyclic['self'] = cyclic;
    expect(jsonText(cyclic)).toBe('{"a":{"v":1},"b":{"v":1},"self":"[Circular]"}');
  });
});
