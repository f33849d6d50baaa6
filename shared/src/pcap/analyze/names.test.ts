import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newDecodedPacket } from '../decode.js';
import { Prng } from '../gen/prng.js';
import type { PacketView } from '../types.js';
import { BoundedTable } from './bounded-table.js';
import { NameCounter } from './names.js';

/** A DNS query message for `name` (RFC 1035 §4.1), type A. */
function query(name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...[...l].map((c) => c.charCodeAt(0))]);
  return Uint8Array.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}

test('name counts equal a plain bounded table fed the same names, past its cap too', () => {
  const rng = new Prng(12);
  const names = Array.from({ length: 40 }, (_, i) => `host${i}.Example.org`);
  // A small cap and sketch: most names end up in the sketch, where entries change hands.
  const counter = new NameCounter(8, 6);
  const reference = new BoundedTable<{ n: number }>(
    8,
    () => ({ n: 0 }),
    (c) => (c.n = 0),
    6,
  );
  const pkt = newDecodedPacket();
  pkt.ipProto = 17;
  pkt.sport = 40000;
  pkt.dport = 53;
  pkt.payloadOffset = 0;
  for (let i = 0; i < 5000; i++) {
    const name = names[rng.chance(0.5) ? rng.int(5) : rng.int(names.length)]!;
    const data = query(name);
    pkt.payloadLength = data.length;
    counter.add({ data } as PacketView, pkt);
    reference.touch(name.toLowerCase(), 1).n++;
  }
  const want = reference
    .top(50, (c) => c.n)
    .map(({ key, value, approximate }) => ({ name: key, count: value.n, ...(approximate ? { approximate: true } : {}) }));
  assert.ok(want.some((r) => r.approximate) && want.some((r) => !r.approximate), 'exact and sketch rows');
  assert.deepEqual(counter.rows(50).dns, want);
});
