import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpaceSaving } from './space-saving.js';
import { BoundedTable } from './bounded-table.js';
import { Prng } from '../gen/prng.js';

test('exact while keys fit', () => {
  const s = new SpaceSaving<string>(4);
  for (const [k, w] of [
    ['a', 5],
    ['b', 3],
    ['a', 1],
    ['c', 10],
  ] as const)
    s.add(k, w);
  assert.deepEqual(
    s.entries().map((e) => [e.key, e.weight, e.error, e.count]),
    [
      ['c', 10, 0, 1],
      ['a', 6, 0, 2],
      ['b', 3, 0, 1],
    ],
  );
});

test('heavy hitters survive a long tail, with error bounds that hold', () => {
  const s = new SpaceSaving<number>(50);
  const truth = new Map<number, number>();
  const rng = new Prng(9);
  for (let i = 0; i < 50_000; i++) {
    const key = rng.chance(0.3) ? rng.int(5) : 1000 + rng.int(100_000); // 5 heavy keys, many rare
    s.add(key, 1);
    truth.set(key, (truth.get(key) ?? 0) + 1);
  }
  const top = s
    .entries()
    .slice(0, 5)
    .map((e) => e.key)
    .sort();
  assert.deepEqual(top, [0, 1, 2, 3, 4]);
  for (const e of s.entries()) {
    const t = truth.get(e.key)!;
    assert.ok(e.weight >= t && e.weight - e.error <= t, `bounds for ${e.key}: ${e.weight}-${e.error} vs ${t}`);
  }
  assert.equal(s.size, 50);
});

test('a bounded table is exact up to its cap, then reports sketch rows as approximate', () => {
  const t = new BoundedTable<{ n: number }>(
    3,
    () => ({ n: 0 }),
    (v) => (v.n = 0),
    2,
  );
  for (const k of ['a', 'b', 'c', 'a']) t.touch(k, 1).n++;
  assert.equal(t.capped, false);
  for (const k of ['d', 'd', 'e', 'f']) t.touch(k, 1).n++;
  assert.equal(t.capped, true);
  assert.equal(t.size, 3);
  const rows = t.top(10, (v) => v.n);
  assert.deepEqual(
    rows.filter((r) => !r.approximate).map((r) => [r.key, r.value.n]),
    [
      ['a', 2],
      ['b', 1],
      ['c', 1],
    ],
  );
  assert.ok(
    rows.some((r) => r.approximate && r.key === 'd'),
    'the heavier overflow key is tracked',
  );
});
