import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from './batcher.js';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

test('items are applied together and each gets its own result only after its batch was applied', async () => {
  const batches: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const b = new Batcher<number, string>(
    async (items) => {
      batches.push(items);
      await gate;
      return items.map((i) => `r${i}`);
    },
    { maxItems: 3, maxWeight: 100, maxDelayMs: 1_000, concurrency: 1 },
  );
  const settled: string[] = [];
  const ps = [1, 2, 3].map((i) => b.add(i).then((r) => (settled.push(r), r)));
  await tick(10);
  assert.deepEqual(batches, [[1, 2, 3]], 'a full batch goes at once, without waiting for the delay');
  assert.deepEqual(settled, [], 'nothing resolves before apply resolved (the commit)');
  release();
  assert.deepEqual(await Promise.all(ps), ['r1', 'r2', 'r3']);
});

test('a batch goes after maxDelayMs, or when its weight is reached; a heavy item goes alone', async () => {
  const batches: number[][] = [];
  const b = new Batcher<number, number>(async (items) => (batches.push(items), items), { maxItems: 100, maxWeight: 10, maxDelayMs: 30, concurrency: 1 });
  const t = Date.now();
  await Promise.all([b.add(1, 1), b.add(2, 1)]);
  assert.ok(Date.now() - t >= 25, 'waited for the delay');
  await Promise.all([b.add(3, 4), b.add(4, 4), b.add(5, 4), b.add(6, 50)]);
  assert.deepEqual(batches, [[1, 2], [3, 4], [5], [6]]);
});

test('a failed batch rejects every item in it and no other', async () => {
  const b = new Batcher<number, number>(
    async (items) => {
      if (items.includes(2)) throw new Error('commit failed');
      return items;
    },
    { maxItems: 2, maxWeight: 100, maxDelayMs: 5, concurrency: 1 },
  );
  const results = await Promise.allSettled([b.add(1), b.add(2), b.add(3)]);
  assert.deepEqual(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ['commit failed', 'commit failed', 3],
  );
  await assert.rejects(
    new Batcher<number, number>(async () => [], { maxItems: 1, maxWeight: 1, maxDelayMs: 0, concurrency: 1 }).add(1),
    /apply returned 0 results for 1 items/,
  );
});

test('at most `concurrency` batches run at once; drain waits for all of them', async () => {
  let running = 0;
  let most = 0;
  const b = new Batcher<number, number>(
    async (items) => {
      most = Math.max(most, ++running);
      await tick(20);
      running--;
      return items;
    },
    { maxItems: 1, maxWeight: 100, maxDelayMs: 0, concurrency: 2 },
  );
  let done = 0;
  for (let i = 0; i < 6; i++) void b.add(i).then(() => done++);
  await b.drain();
  assert.equal(done, 6);
  assert.equal(most, 2);
});

test('bad options are refused by name', () => {
  assert.throws(
    () => new Batcher(async (x: number[]) => x, { maxItems: 0, maxWeight: 1, maxDelayMs: 0, concurrency: 1 }),
    /maxItems must be a positive integer, got 0/,
  );
  assert.throws(() => new Batcher(async (x: number[]) => x, { maxItems: 1, maxWeight: 1, maxDelayMs: -1, concurrency: 1 }), /maxDelayMs must be >= 0/);
});
