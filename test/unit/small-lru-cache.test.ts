import { describe, expect, it } from 'vitest';
import LRUCache from '../../lib/small-lru-cache.js';

describe('the endpoint cache’s LRU map (lib/small-lru-cache.ts)', () => {
  it.each([
    // [label, operations on a cache of 2, keys left in use order]
    ['keeps what fits', (c: LRUCache<string, number>) => c.set('a', 1).set('b', 2), ['a', 'b']],
    [
      'drops the least recently set',
      (c: LRUCache<string, number>) => c.set('a', 1).set('b', 2).set('c', 3),
      ['b', 'c'],
    ],
    [
      'counts a get as a use',
      (c: LRUCache<string, number>) => {
        c.set('a', 1).set('b', 2).get('a');
        c.set('c', 3);
      },
      ['a', 'c'],
    ],
    [
      'does not count a peek as a use',
      (c: LRUCache<string, number>) => {
        c.set('a', 1).set('b', 2).peek('a');
        c.set('c', 3);
      },
      ['b', 'c'],
    ],
    [
      'replaces a key in place of adding one',
      (c: LRUCache<string, number>) => c.set('a', 1).set('a', 2).set('b', 3),
      ['a', 'b'],
    ],
  ])('%s', (_label, operate, left) => {
    // Prepare
    const cache = new LRUCache<string, number>(2);

    // Act
    operate(cache);

    // Assess
    expect(['a', 'b', 'c'].filter((key) => cache.has(key))).toEqual([...left].sort());
    expect(cache.size).toBe(left.length);
  });

  it('answers undefined for a key it does not hold, and empties on clear', () => {
    const cache = new LRUCache<string, number>(2).set('a', 1);
    expect(cache.get('b')).toBeUndefined();
    cache.clear();
    expect([cache.size, cache.has('a')]).toEqual([0, false]);
  });
});
