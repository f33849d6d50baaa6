import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Timeline } from './timeline.js';

test('one bucket per second from the first packet', () => {
  const t = new Timeline(8);
  for (const s of [100, 100, 101, 103]) t.add(s, 10);
  assert.deepEqual(t.report(), { start: 100, bucketSeconds: 1, packets: [2, 1, 0, 1], bytes: [20, 10, 0, 10] });
});

test('packets earlier than the first shift buckets right', () => {
  const t = new Timeline(8);
  t.add(100, 1);
  t.add(98, 2);
  assert.deepEqual(t.report(), { start: 98, bucketSeconds: 1, packets: [1, 0, 1], bytes: [2, 0, 1] });
});

test('a long span doubles the bucket width and keeps every packet', () => {
  const t = new Timeline(4);
  for (let s = 0; s < 20; s++) t.add(1000 + s, 1);
  const r = t.report();
  assert.ok(r.packets.length <= 4);
  assert.equal(
    r.packets.reduce((a, b) => a + b, 0),
    20,
  );
  assert.equal(r.bucketSeconds, 8);
  assert.equal(r.start % r.bucketSeconds, 0);
  // Years apart (2038/2106 edges) stay bounded too.
  t.add(4_000_000_000, 1);
  t.add(0, 1);
  assert.ok(t.report().packets.length <= 4);
  assert.equal(
    t.report().packets.reduce((a, b) => a + b, 0),
    22,
  );
});
