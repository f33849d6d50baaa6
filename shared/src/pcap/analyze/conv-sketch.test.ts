import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from '../gen/prng.js';
import { ConvSketch } from './conv-sketch.js';
import { KeyIndex } from './key-index.js';
import { SpaceSaving } from './space-saving.js';

test('makes the moves of SpaceSaving: same keys, weights and order, over two key shapes', () => {
  const rng = new Prng(17);
  for (const capacity of [1, 3, 16, 50]) {
    const narrow = new KeyIndex(2);
    const wide = new KeyIndex(8, 15);
    const sketch = new ConvSketch(capacity, 8);
    const reference = new SpaceSaving<string>(capacity);
    for (let i = 0; i < 20_000; i++) {
      const index = rng.chance(0.7) ? narrow : wide;
      // Few distinct words and small weights: many repeats, evictions and weight ties.
      // (The wide key's string drops the low half of its last word, as a flow key's protocol word.)
      for (let w = 0; w < index.width; w++) index.key[w] = w === 0 ? rng.int(3 * capacity + 5) - 2 : rng.int(2) << (w === 7 ? 16 : 0);
      const weight = 1 + rng.int(4);
      const e = sketch.add(index, index.hash(), weight);
      const ref = reference.add(index.wordsString(index.key, 0), weight);
      assert.equal(sketch.keyString(e), ref.key);
      assert.equal(sketch.weight[e], ref.weight, `add ${i}, capacity ${capacity}`);
    }
    assert.deepEqual(
      sketch.entries().map((e) => [sketch.keyString(e), sketch.weight[e]]),
      reference.entries().map((e) => [e.key, e.weight]),
      `capacity ${capacity}`,
    );
  }
});

test('an entry that takes over an evicted key starts blank', () => {
  const index = new KeyIndex(2);
  const sketch = new ConvSketch(1, 2);
  index.key[0] = 1;
  const a = sketch.add(index, index.hash(), 10);
  sketch.lowPackets[a] = 5;
  sketch.first[a] = 42;
  index.key[0] = 2;
  const b = sketch.add(index, index.hash(), 1);
  assert.equal(b, a, 'the only entry is taken over');
  assert.equal(sketch.weight[b], 11, 'and inherits the evicted weight (Space-Saving)');
  assert.equal(sketch.lowPackets[b], 0);
  assert.equal(sketch.first[b], Infinity);
  assert.throws(() => new ConvSketch(0, 2), /capacity must be a positive integer, got 0/);
});
