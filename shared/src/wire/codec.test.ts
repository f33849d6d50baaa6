import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode as rawCbor } from 'cbor-x';
import { decodeMessage, encodeMessage, MAX_PAYLOAD_BYTES } from './codec.js';
import { Sequencer } from './sequencer.js';
import { SCHEMA_VERSION } from './schemas.js';

const seq = new Sequencer(41, () => 1_700_000_000_000);

test('a stamped message round-trips with its envelope', () => {
  const msg = seq.stamp('state', { status: 'online', bdSeq: 3, version: '0.1.0', location: 'lab', interfaces: [] });
  const back = decodeMessage('state', encodeMessage('state', msg));
  assert.ok(back.ok);
  assert.deepEqual(back.message, { ...msg });
  assert.equal(back.message.seq, 41);
  assert.equal(back.message.v, SCHEMA_VERSION);
  assert.equal(seq.next, 42);
});

test('decode failures are typed, never thrown', () => {
  const notCbor = decodeMessage('health', Uint8Array.from([0xff, 0xfe, 0x00]));
  assert.equal(notCbor.ok ? 'ok' : notCbor.reason, 'not-cbor');

  const wrongShape = decodeMessage('health', rawCbor({ v: 1, sentAt: 1, seq: 1, cpu: 'high' }));
  assert.ok(!wrongShape.ok);
  assert.equal(wrongShape.reason, 'schema');
  assert.match(wrongShape.detail, /health: cpu/);

  const future = decodeMessage('state', rawCbor({ v: SCHEMA_VERSION + 1, sentAt: 1, seq: 1, status: 'online', bdSeq: 0 }));
  assert.equal(future.ok ? 'ok' : future.reason, 'version');

  const big = decodeMessage('pcap', new Uint8Array(MAX_PAYLOAD_BYTES + 1));
  assert.equal(big.ok ? 'ok' : big.reason, 'oversized');
});

test('random bytes never throw', () => {
  let state = 12345;
  const rnd = () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: 1 + (i % 97) }, rnd);
    const r = decodeMessage('health', bytes);
    assert.equal(r.ok, false);
  }
});

test('values the collector cannot store are schema failures, not messages it would retry for ever', () => {
  const health = seq.stamp('health', {
    cpu: { usage: 1, cores: 2 },
    memory: { total: 1, used: 1, available: 0 },
    load: [0, 0, 0],
    uptime: 1,
    disks: [],
    interfaces: [],
    captures: [],
  });
  assert.ok(decodeMessage('health', encodeMessage('health', health)).ok, 'the unchanged message decodes');
  const refused = (kind: 'health' | 'state' | 'pcap' | 'traffic', value: unknown, where: RegExp) => {
    const r = decodeMessage(kind, rawCbor(value));
    assert.equal(r.ok ? 'ok' : r.reason, 'schema', JSON.stringify(value).slice(0, 120));
    if (!r.ok) assert.match(r.detail, where);
  };
  refused('health', { ...health, cpu: { usage: 1, cores: 2 ** 31 } }, /cpu\.cores/); // integer column
  refused('health', { ...health, load: [1e308, 0, 0] }, /load\.0/); // real column
  refused('state', { v: 1, sentAt: 1, seq: 1, status: 'online', bdSeq: 0, location: 'a\u0000b' }, /location: NUL/);
  refused('state', { v: 1, sentAt: 1, seq: 1, status: 'online', bdSeq: 0, capabilities: ['x', '\u0000'] }, /capabilities\.1: NUL/);
  const source = { name: 'eth0', directory: '/d', oldest: { sec: -(2 ** 40), nsec: 0 }, newest: null, files: 0, bytes: 0, gaps: [], problems: [] };
  refused('pcap', { v: 1, sentAt: 1, seq: 1, sources: [source] }, /sources\.0\.oldest\.sec/); // before year 1
  refused('traffic', { v: 1, sentAt: 1, seq: 1, intervalStart: 60, intervalSeconds: 2 ** 31, flows: [] }, /intervalSeconds/);
  const year9999 = { ...source, oldest: { sec: 253_402_300_799, nsec: 999_999_999 } };
  assert.ok(decodeMessage('pcap', rawCbor({ v: 1, sentAt: 1, seq: 1, sources: [year9999] })).ok, 'the last second of year 9999 is a timestamp');
});

test('one payload cannot change how the next decodes (no record structures kept between payloads)', () => {
  const msg = seq.stamp('state', { status: 'online', bdSeq: 3, version: '0.1.0', location: 'lab', interfaces: [] });
  const keys = Object.keys(msg);
  const values = Object.values(msg).map((v) => Buffer.from(rawCbor(v)));
  // cbor-x records: tag 0xdfff [id 0xe000, keys, ...values] defines structure 0 and uses it;
  // tag 0xe000 [...values] only refers to it.
  const define = Buffer.concat([Buffer.from([0xd9, 0xdf, 0xff, 0x80 + 2 + keys.length, 0x19, 0xe0, 0x00]), Buffer.from(rawCbor(keys)), ...values]);
  const refer = Buffer.concat([Buffer.from([0xd9, 0xe0, 0x00, 0x80 + values.length]), ...values]);
  assert.ok(decodeMessage('state', define).ok, 'a self-contained record payload decodes');
  const after = decodeMessage('state', refer);
  assert.equal(after.ok ? 'ok' : after.reason, 'schema', 'a structure defined by an earlier payload is not applied to this one');
});

test('deep nesting is refused the same way whatever the caller’s stack depth (the decoder’s own limit is not)', () => {
  const nested = (d: number) => Buffer.concat([Buffer.alloc(d, 0x81), Buffer.from([0x01])]);
  const verdicts = (frames: number): string[] => {
    if (frames > 0) return verdicts(frames - 1);
    return [20, 33, 500, 2_000, 2_300, 5_000].map((d) => {
      const r = decodeMessage('health', nested(d));
      return r.ok ? 'ok' : r.reason;
    });
  };
  const expected = ['schema', 'not-cbor', 'not-cbor', 'not-cbor', 'not-cbor', 'not-cbor'];
  assert.deepEqual(verdicts(0), expected);
  assert.deepEqual(verdicts(3_000), expected, 'called 3,000 frames deeper');
});

test('values stored in 32-bit real columns: a non-zero value too small for one is a schema failure, not a store error for ever', () => {
  const body = (load: [number, number, number], usage = 1) => ({
    v: SCHEMA_VERSION,
    sentAt: 1,
    seq: 1,
    cpu: { usage, cores: 2 },
    memory: { total: 1, used: 1, available: 0 },
    load,
    uptime: 1,
    disks: [],
    interfaces: [],
    captures: [],
  });
  assert.ok(decodeMessage('health', rawCbor(body([0, 0.01, 3.5]))).ok);
  const tiny = decodeMessage('health', rawCbor(body([1.4e-163, 0, 0])));
  assert.equal(tiny.ok ? 'ok' : tiny.reason, 'schema');
  assert.match(tiny.ok ? '' : tiny.detail, /health: load\.0: .*32-bit real/);
  const usage = decodeMessage('health', rawCbor(body([0, 0, 0], 5e-324)));
  assert.equal(usage.ok ? 'ok' : usage.reason, 'schema');
});
