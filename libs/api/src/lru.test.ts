import { describe, expect, it } from 'vitest';
import { Lru } from './lru.js';

describe('Lru', () => {
  it('forgets the least recently used entry past its bound; a read counts as a use', () => {
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1); // a is now the most recent
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
  });

  it('replacing a key keeps one entry; delete removes it', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('a', 2);
    expect(lru.size).toBe(1);
    expect(lru.get('a')).toBe(2);
    lru.delete('a');
    expect(lru.get('a')).toBeUndefined();
  });

  it('hands each entry the bound pushes out to onEvict (prepared statements are destroyed there)', () => {
    const evicted: string[] = [];
    const lru = new Lru<string, string>(1, (value, key) => evicted.push(`${key}=${value}`));
    lru.set('a', '1');
    lru.set('a', '2'); // replaced, not evicted
    lru.set('b', '3');
    lru.delete('b'); // deleted, not evicted
    expect(evicted).toEqual(['a=2']);
  });

  it('refuses a bound below one', () => {
    expect(() => new Lru(0)).toThrow(RangeError);
  });
});
