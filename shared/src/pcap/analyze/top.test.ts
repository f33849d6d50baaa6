import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from '../gen/prng.js';
import { topRows } from './top.js';

interface Row {
  key: string;
  score: number;
}

test('the first n rows equal those of a full sort, ties by key included', () => {
  const rng = new Prng(4);
  const full = (rows: Row[]): Row[] => [...rows].sort((x, y) => y.score - x.score || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  for (let round = 0; round < 200; round++) {
    const count = rng.int(300);
    // Few distinct scores: many ties around the n-th row.
    const rows = Array.from({ length: count }, (_, i) => ({ key: `k${rng.int(1e6)}-${i}`, score: rng.int(round % 2 === 0 ? 5 : 1000) }));
    for (const n of [0, 1, 3, 20, count, count + 5]) {
      assert.deepEqual(
        topRows(
          [...rows],
          n,
          (r) => r.score,
          (r) => r.key,
        ),
        full(rows).slice(0, n),
        `round ${round}, ${count} rows, n ${n}`,
      );
    }
  }
});
