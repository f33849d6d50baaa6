import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from './batcher.js';

test('coalesce: while the slot is busy, the next batch keeps growing and goes when the slot frees', async () => {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const b = new Batcher<number, number>(
    async (items) => {
      batches.push(items);
      await new Promise<void>((resolve) => gates.push(resolve));
      return items;
    },
    { maxItems: 100, maxWeight: 100, maxDelayMs: 1, concurrency: 1, coalesce: true },
  );
  const all: Promise<number>[] = [b.add(1)];
  while (batches.length < 1) await new Promise((r) => setTimeout(r, 5));
  // The first batch is being applied; items keep coming, each well past the delay.
  for (const i of [2, 3, 4]) {
    all.push(b.add(i));
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(batches, [[1]], 'nothing else starts while the slot is busy');
  gates.shift()!();
  while (batches.length < 2) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(batches, [[1], [2, 3, 4]], 'one batch of everything that waited, not one per delay');
  gates.shift()!();
  assert.deepEqual(await Promise.all(all), [1, 2, 3, 4]);

  // A full batch still goes at once, and without coalesce each delay makes a batch of its own.
  const plain: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const p = new Batcher<number, number>(async (items) => (plain.push(items), await gate, items), {
    maxItems: 100,
    maxWeight: 100,
    maxDelayMs: 1,
    concurrency: 1,
  });
  const ps = [p.add(1)];
  while (plain.length < 1) await new Promise((r) => setTimeout(r, 5));
  for (const i of [2, 3]) {
    ps.push(p.add(i));
    await new Promise((r) => setTimeout(r, 20));
  }
  release();
  await Promise.all(ps);
  assert.deepEqual(plain, [[1], [2], [3]]);
});
