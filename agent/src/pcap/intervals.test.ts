import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverage } from './intervals.js';

const t = (sec: number, nsec = 0) => ({ sec, nsec });

test('overlapping and close intervals merge; wide spaces become gaps', () => {
  const c = coverage(
    [
      { first: t(500), last: t(560) },
      { first: t(100), last: t(160) },
      { first: t(150), last: t(200) }, // overlaps the previous
      { first: t(230), last: t(290) }, // 30 s after: continuous
      { first: t(290, 500), last: t(300) },
    ],
    60,
  );
  assert.deepEqual(c.oldest, t(100));
  assert.deepEqual(c.newest, t(560));
  assert.deepEqual(c.gaps, [{ from: t(300), to: t(500) }]);
});

test('a file nested inside a longer one does not end the interval early', () => {
  const c = coverage(
    [
      { first: t(0), last: t(1000) },
      { first: t(10), last: t(20) },
      { first: t(1050), last: t(1060) },
    ],
    60,
  );
  assert.deepEqual(c.gaps, []);
  assert.deepEqual(c.newest, t(1060));
});

test('the threshold is compared with nanosecond precision; no files, no coverage', () => {
  assert.equal(
    coverage(
      [
        { first: t(0), last: t(1) },
        { first: t(61, 1), last: t(62) },
      ],
      60,
    ).gaps.length,
    1,
  );
  assert.equal(
    coverage(
      [
        { first: t(0), last: t(1) },
        { first: t(61, 0), last: t(62) },
      ],
      60,
    ).gaps.length,
    0,
  );
  assert.deepEqual(coverage([], 60), { oldest: null, newest: null, gaps: [] });
});

test('only the most recent gaps are kept when there are too many', () => {
  const many = Array.from({ length: 20 }, (_, i) => ({ first: t(i * 1000), last: t(i * 1000 + 1) }));
  const c = coverage(many, 60, 5);
  assert.equal(c.gaps.length, 5);
  assert.deepEqual(c.gaps.at(-1)!.to, t(19_000));
});
