import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from '../../gen/prng.js';
import { NameText, printable } from './text.js';

/** Random bytes, a third of them letters (upper and lower case), the rest anything. */
function randomBytes(rng: Prng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.chance(0.33) ? 0x41 + rng.int(26) + (rng.chance(0.5) ? 0x20 : 0) : rng.int(256);
  return out;
}

test('a built name equals printable(...).toLowerCase() of its parts, cached or not', () => {
  const rng = new Prng(21);
  for (const cache of [0, 64]) {
    const t = new NameText(cache);
    for (let i = 0; i < 2000; i++) {
      const a = randomBytes(rng, rng.int(40));
      const b = randomBytes(rng, rng.int(12));
      t.reset();
      t.appendPrintable(a, 0, a.length);
      t.appendByte(0x2e);
      t.appendPrintable(b, 0, b.length);
      assert.equal(t.text(), `${printable(a, 0, a.length)}.${printable(b, 0, b.length)}`.toLowerCase());
    }
  }
});

test('names are kept up to the entry and byte limits, and found again', () => {
  const name = (t: NameText, s: string): string => {
    t.reset();
    t.appendPrintable(Buffer.from(s, 'latin1'), 0, s.length);
    return t.text();
  };
  const t = new NameText(3, 1 << 20);
  const first = name(t, 'Example.COM');
  assert.equal(first, 'example.com');
  assert.equal(name(t, 'example.com'), first, 'same text, same case-folded name');
  assert.equal(t.kept, 1, 'found again, not kept twice');
  name(t, 'b.test');
  name(t, 'c.test');
  assert.equal(name(t, 'd.test'), 'd.test', 'past 3 entries: built, not kept');
  assert.equal(t.kept, 3);
  const small = new NameText(100, 10);
  name(small, 'abcde');
  name(small, 'fghij');
  assert.equal(name(small, 'klm'), 'klm');
  assert.equal(small.kept, 2, 'the third name would pass 10 bytes');
  // Many distinct names through a small cache: every answer still right, rehashes included.
  const big = new NameText(5000, 40_000);
  for (let round = 0; round < 2; round++) for (let i = 0; i < 8000; i++) assert.equal(name(big, `Host${i}.Example`), `host${i}.example`);
  let fit = 0;
  for (let bytes = 0, i = 0; i < 5000 && (bytes += `host${i}.example`.length) <= 40_000; i++) fit++;
  assert.equal(big.kept, fit, 'kept until the 40,000 bytes were full');
});

test('a long name (past the internal chunk of 8192 code units) is built whole', () => {
  const bytes = new Uint8Array(70_000).fill(0x41);
  bytes[69_999] = 0x07;
  const t = new NameText(16);
  t.reset();
  t.appendPrintable(bytes, 0, bytes.length);
  const s = t.text();
  assert.equal(s.length, 69_999 + 4);
  assert.equal(s, printable(bytes, 0, bytes.length).toLowerCase());
});
