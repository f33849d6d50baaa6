/**
 * Seeded generators of malformed and mutated MQTT payloads and packets for the fault suite
 * (test/faults/mqtt-fuzz.test.ts, bench/faults.ts).
 *
 * Payloads start from VALID messages of every sensor channel (checked against the real schemas of
 * shared/src/wire by `decodeMessage`), then one mutation is applied: byte-level (bit flips,
 * truncation, insertion, deletion, splices of random bytes), structural (a field removed, a value
 * replaced by another type or an extreme value, deep nesting, huge strings), wrong kind (a valid
 * message of one channel on another's topic), future schema version, oversized, and schema edge
 * cases (values exactly at and one past each documented limit). The codec's own verdict
 * (`decodeMessage`) is kept with each payload, so a test can assert the collector's counts exactly.
 *
 * Packets are raw TCP byte strings that break the MQTT 3.1.1 framing or protocol rules.
 */
import { Encoder } from 'cbor-x';
import { MAX_PAYLOAD_BYTES, SCHEMA_VERSION, decodeMessage, encodeMessage, topics, type DecodeFailure, type MessageOf } from '@pcapmesh/shared/wire';

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The sensor channels fuzzed (task statuses are left out: a publish for a task the sensor does not hold may cost the connection, by design). */
export const FUZZ_CHANNELS = ['state', 'health', 'pcap', 'traffic'] as const;
export type FuzzChannel = (typeof FUZZ_CHANNELS)[number];

export interface FuzzPayload {
  topic: string;
  channel: FuzzChannel;
  bytes: Buffer;
  /** What the codec says: a decode failure, or 'decodes' for a payload that is a valid message. */
  verdict: DecodeFailure | 'decodes';
  /** Which mutation made it (for reports). */
  mutation: string;
}

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

class Gen {
  constructor(readonly rand: () => number) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  ts(): { sec: number; nsec: number } {
    return { sec: 1_700_000_000 + this.int(100_000_000), nsec: this.int(1_000_000_000) };
  }
  word(max = 12): string {
    return Array.from({ length: 1 + this.int(max) }, () => 'abcdefghijklmnopqrstuvwxyz0123456789-_'[this.int(38)]).join('');
  }
}

/** A valid message of `channel`, varied by the generator (sizes, optional fields, values in range). */
function validBody(g: Gen, channel: FuzzChannel, seq: number): MessageOf<FuzzChannel> {
  const envelope = { v: SCHEMA_VERSION, sentAt: Date.now() - g.int(86_400_000), seq };
  const count = () => g.int(1 << 30);
  switch (channel) {
    case 'state':
      return {
        ...envelope,
        status: g.rand() < 0.8 ? 'online' : 'offline',
        bdSeq: g.int(1000),
        ...(g.rand() < 0.5 ? { version: g.word(20), hostname: g.word(40), location: g.word(40) } : {}),
        ...(g.rand() < 0.5
          ? { interfaces: Array.from({ length: g.int(4) }, () => ({ name: g.word(), managed: g.rand() < 0.5, directory: `/var/${g.word()}` })) }
          : {}),
        ...(g.rand() < 0.3 ? { capabilities: ['traffic', 'index'] } : {}),
      };
    case 'health':
      return {
        ...envelope,
        cpu: { usage: g.rand() * 100, cores: 1 + g.int(64) },
        memory: { total: count(), used: count(), available: count() },
        load: [g.rand() * 4, g.rand() * 4, g.rand() * 4],
        uptime: g.int(1e7),
        disks: Array.from({ length: g.int(3) }, () => ({
          mount: `/${g.word()}`,
          fs: 'ext4',
          size: count(),
          used: count(),
          available: count(),
          directories: [`/${g.word()}`],
        })),
        interfaces: Array.from({ length: g.int(3) }, () => ({
          name: g.word(8),
          rxBytes: count(),
          txBytes: count(),
          rxPackets: count(),
          txPackets: count(),
          rxDropped: count(),
          rxErrors: count(),
        })),
        captures: Array.from({ length: g.int(2) }, () => ({ interface: g.word(8), running: g.rand() < 0.5, packets: count() })),
        ...(g.rand() < 0.5 ? { clockOffsetMs: g.rand() < 0.2 ? null : g.int(2000) - 1000, spoolDropped: g.int(10) } : {}),
      };
    case 'pcap':
      return {
        ...envelope,
        sources: Array.from({ length: 1 + g.int(3) }, () => ({
          name: g.word(8),
          directory: `/srv/${g.word()}`,
          oldest: g.rand() < 0.1 ? null : g.ts(),
          newest: g.rand() < 0.1 ? null : g.ts(),
          files: g.int(1000),
          bytes: count(),
          gaps: Array.from({ length: g.int(3) }, () => ({ from: g.ts(), to: g.ts() })),
          problems: g.rand() < 0.3 ? [{ file: `/srv/${g.word()}.pcap`, offset: count(), reason: 'truncated record' }] : [],
          ...(g.rand() < 0.5 ? { indexedFiles: g.int(100), unindexedFiles: g.int(10) } : {}),
        })),
      };
    case 'traffic': {
      const net = () => (g.rand() < 0.1 ? 'other' : `10.${g.int(256)}.${g.int(256)}.0/24`);
      return {
        ...envelope,
        intervalStart: Math.floor((Date.now() - g.int(3_600_000)) / 60_000) * 60,
        intervalSeconds: 60,
        ...(g.rand() < 0.5 ? { part: g.word(16) } : {}),
        flows: Array.from({ length: 1 + g.int(20) }, () => ({ srcNet: net(), dstNet: net(), packets: g.int(1e6), bytes: g.int(1e9) })),
      };
    }
  }
}

/** Every path to a leaf or node of a decoded message (object keys and array indexes). */
function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
      const p = [...prefix, k];
      out.push(p);
      paths(v as Json, p, out);
    }
  }
  return out;
}

function setAt(root: Json, path: (string | number)[], mutate: (parent: Record<string | number, Json>, key: string | number) => void): void {
  let node = root as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  mutate(node, path.at(-1)!);
}

function nested(depth: number): Json {
  let v: Json = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

const EXTREMES: Json[] = [
  -1,
  -0.5,
  0.5,
  2 ** 31,
  2 ** 53,
  2 ** 63,
  -(2 ** 63),
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  NaN,
  Infinity,
  -Infinity,
  '',
  'x'.repeat(257),
  'x'.repeat(5000),
  '\u0000',
  "'; DROP TABLE sensors; --",
  '../../../../etc/passwd',
  '\ud800',
  null,
  true,
  [],
  {},
  [1, 2, 3],
  { sec: 1, nsec: 1e9 },
];

/** Values at and one past the documented limits of the schemas (schemas.ts). */
function edgeCase(g: Gen, channel: FuzzChannel, seq: number): { body: Json; label: string } {
  const body = validBody(g, channel, seq) as unknown as Record<string, Json>;
  const over = g.rand() < 0.5 ? 1 : 0;
  switch (channel) {
    case 'state': {
      const field = g.pick(['reason', 'location', 'hostname']);
      body[field] = 'L'.repeat(256 + over);
      if (g.rand() < 0.3) body.interfaces = Array.from({ length: 256 + over }, (_, i) => ({ name: `if${i}`, managed: false, directory: '/d' }));
      return { body, label: `state.${field} length ${256 + over}` };
    }
    case 'health': {
      const cpu = body.cpu as Record<string, Json>;
      const which = g.int(4);
      if (which === 0) cpu.usage = over ? 100.0001 : 100;
      else if (which === 1) cpu.cores = over ? -1 : Number.MAX_SAFE_INTEGER;
      else if (which === 2)
        body.disks = Array.from({ length: 64 + over }, (_, i) => ({ mount: `/m${i}`, fs: 'xfs', size: 1, used: 0, available: 1, directories: [] }));
      else body.memory = { total: Number.MAX_SAFE_INTEGER, used: Number.MAX_SAFE_INTEGER, available: over ? -1 : 0 };
      return { body, label: `health edge ${which}${over ? ' over' : ''}` };
    }
    case 'pcap': {
      const src = (body.sources as Record<string, Json>[])[0]!;
      const which = g.int(3);
      if (which === 0) src.oldest = { sec: over ? 2 ** 53 : -(2 ** 40), nsec: over ? 1e9 : 999_999_999 };
      else if (which === 1) src.gaps = Array.from({ length: 1000 + over }, () => ({ from: { sec: 1, nsec: 0 }, to: { sec: 2, nsec: 0 } }));
      else src.name = over ? '' : 'n'.repeat(256);
      return { body, label: `pcap edge ${which}${over ? ' over' : ''}` };
    }
    case 'traffic': {
      const which = g.int(3);
      if (which === 0) body.intervalSeconds = over ? 0 : 2 ** 31;
      else if (which === 1) body.part = 'p'.repeat(64 + over);
      else (body.flows as Record<string, Json>[])[0]!.srcNet = over ? 'n'.repeat(65) : 'not a cidr at all';
      return { body, label: `traffic edge ${which}${over ? ' over' : ''}` };
    }
  }
}

/**
 * A stream of `n` fuzz payloads for `sensor`, deterministic for a seed. About 1 in 200 is oversized
 * (they are costly to send). Every verdict is the codec's.
 */
export function* fuzzPayloads(sensor: string, n: number, seed: number, firstSeq = 1): Generator<FuzzPayload> {
  const g = new Gen(prng(seed));
  let seq = firstSeq;
  for (let i = 0; i < n; i++) {
    const channel = g.pick(FUZZ_CHANNELS);
    const valid = validBody(g, channel, seq++) as unknown as Json;
    const validBytes = Buffer.from(encodeMessage(channel, valid as unknown as MessageOf<typeof channel>));
    let bytes: Buffer;
    let mutation: string;
    const r = g.rand();
    if (r < 0.005) {
      // Over the codec's limit, within the broker's packet limit (which disconnects: that is a raw case).
      bytes = Buffer.concat([validBytes, g.bytes(MAX_PAYLOAD_BYTES + 1 - validBytes.length + g.int(512))]);
      mutation = 'oversized';
    } else if (r < 0.1) {
      bytes = Buffer.from(validBytes);
      for (let k = 1 + g.int(8); k > 0; k--) bytes[g.int(bytes.length)]! ^= 1 << g.int(8);
      mutation = 'bit flips';
    } else if (r < 0.18) {
      bytes = validBytes.subarray(0, g.int(validBytes.length));
      mutation = 'truncated';
    } else if (r < 0.24) {
      const at = g.int(validBytes.length);
      bytes = Buffer.concat([validBytes.subarray(0, at), g.bytes(1 + g.int(16)), validBytes.subarray(at + (g.rand() < 0.5 ? g.int(8) : 0))]);
      mutation = 'bytes inserted/replaced';
    } else if (r < 0.28) {
      bytes = g.bytes(g.int(600));
      mutation = 'random bytes';
    } else if (r < 0.3) {
      // Arrays nested deeper than any encoder would write: the decoder's stack, not the schema.
      bytes = Buffer.concat([Buffer.alloc(1000 + g.int(200_000), 0x81), Buffer.from([0x01])]);
      mutation = 'deep nesting';
    } else if (r < 0.33) {
      bytes = Buffer.concat([validBytes, g.bytes(1 + g.int(8))]);
      mutation = 'trailing bytes';
    } else if (r < 0.45) {
      const ps = paths(valid);
      const path = g.pick(ps);
      setAt(valid, path, (parent, key) => {
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
      });
      bytes = Buffer.from(cbor.encode(valid));
      mutation = `removed ${path.join('.')}`;
    } else if (r < 0.7) {
      const path = g.pick(paths(valid));
      const replacement = g.rand() < 0.1 ? nested(20 + g.int(200)) : g.pick(EXTREMES);
      setAt(valid, path, (parent, key) => {
        parent[key] = replacement;
      });
      bytes = Buffer.from(cbor.encode(valid));
      mutation = `replaced ${path.join('.')}`;
    } else if (r < 0.75) {
      (valid as Record<string, Json>)[`x${g.word(4)}`] = g.pick(EXTREMES);
      bytes = Buffer.from(cbor.encode(valid));
      mutation = 'unknown field';
    } else if (r < 0.8) {
      (valid as Record<string, Json>).v = g.pick([SCHEMA_VERSION + 1, 99, 2 ** 40, 0, -1, 1.5]);
      bytes = Buffer.from(cbor.encode(valid));
      mutation = 'version';
    } else if (r < 0.88) {
      const other = g.pick(FUZZ_CHANNELS.filter((c) => c !== channel));
      bytes = Buffer.from(encodeMessage(other, validBody(g, other, seq++)));
      mutation = `wrong kind (${other})`;
    } else if (r < 0.95) {
      const edge = edgeCase(g, channel, seq++);
      bytes = Buffer.from(cbor.encode(edge.body));
      mutation = edge.label;
    } else {
      bytes = Buffer.from(cbor.encode(g.pick<Json>([null, 0, 'state', [valid], { ...(valid as object), seq: -1 }, { ...(valid as object), sentAt: 'now' }])));
      mutation = 'wrong top-level';
    }
    const decoded = decodeMessage(channel, bytes);
    yield { topic: topics.sensor(sensor, channel), channel, bytes, verdict: decoded.ok ? 'decodes' : decoded.reason, mutation };
  }
}

// ---------------------------------------------------------------------------------------------
// Raw MQTT 3.1.1 packets

/** MQTT remaining-length varint. */
export function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

function str(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** A CONNECT packet (MQTT 3.1.1) with user name and password. */
export function connectPacket(clientId: string, username: string, password: string, keepalive = 30): Buffer {
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, 0xc2]),
    Buffer.from([keepalive >> 8, keepalive & 0xff]),
    str(clientId),
    str(username),
    str(password),
  ]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

/** A QoS 0 PUBLISH. */
export function publishPacket(topic: string | Buffer, payload: Buffer): Buffer {
  const body = Buffer.concat([str(topic), payload]);
  return Buffer.concat([Buffer.from([0x30]), varint(body.length), body]);
}

/**
 * How many packets of `bytes` announce more than their type may carry (limits of docs/mqtt.md
 * "Limits": `limit(type)`), or have a remaining length longer than four bytes — what the broker
 * refuses from the fixed header. Walks the stream the way the broker reads it: header, skip body, next.
 */
export function oversizedPackets(bytes: Buffer, limit: (type: number) => number): number {
  let off = 0;
  while (off < bytes.length) {
    const type = bytes[off]! >> 4;
    let length = 0;
    let mult = 1;
    let i = off + 1;
    for (;;) {
      if (i >= bytes.length) return 0; // header incomplete: nothing announced yet
      const b = bytes[i++]!;
      length += (b & 0x7f) * mult;
      mult *= 128;
      if ((b & 0x80) === 0) break;
      if (i - off - 1 === 4) return 1; // a fifth length byte: malformed
    }
    if (length > limit(type)) return 1; // the connection ends here
    off = i + length;
  }
  return 0;
}

export interface RawCase {
  name: string;
  /** Sent after a valid CONNECT of a real sensor (true) or on a fresh connection (false). */
  afterConnect: boolean;
  bytes: Buffer;
}

/** Protocol violations and framing damage, one connection each. */
export function rawCases(g: () => number, sensor: string): RawCase[] {
  const gen = new Gen(g);
  const cases: RawCase[] = [
    { name: 'random bytes before CONNECT', afterConnect: false, bytes: gen.bytes(256) },
    { name: 'PUBLISH before CONNECT', afterConnect: false, bytes: publishPacket(topics.sensor(sensor, 'health'), Buffer.from('x')) },
    { name: 'CONNECT with protocol name MQTX', afterConnect: false, bytes: Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x58, 4, 2, 0, 30, 0, 0]) },
    { name: 'CONNECT with protocol level 9', afterConnect: false, bytes: Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 9, 2, 0, 30, 0, 0]) },
    { name: 'CONNECT with reserved flag set', afterConnect: false, bytes: Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 3, 0, 30, 0, 0]) },
    { name: 'remaining length varint of 5 bytes', afterConnect: false, bytes: Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f]) },
    {
      name: 'CONNECT whose strings run past the packet',
      afterConnect: false,
      bytes: Buffer.from([0x10, 10, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 30, 0xff, 0xff]),
    },
    { name: 'packet type 0 (reserved)', afterConnect: true, bytes: Buffer.from([0x00, 0]) },
    { name: 'packet type 15 (reserved in 3.1.1)', afterConnect: true, bytes: Buffer.from([0xf0, 0]) },
    { name: 'second CONNECT', afterConnect: true, bytes: connectPacket(sensor, sensor, 'x') },
    { name: 'PUBLISH with QoS 3', afterConnect: true, bytes: Buffer.from([0x36, 5, 0, 1, 0x61, 0, 1]) },
    { name: 'PUBLISH with a topic length past the packet', afterConnect: true, bytes: Buffer.from([0x30, 3, 0xff, 0xff, 0x61]) },
    { name: 'PUBLISH with a wildcard topic', afterConnect: true, bytes: publishPacket(`pcapmesh/v1/sensors/${sensor}/#`, Buffer.from('x')) },
    { name: 'SUBSCRIBE with reserved flags 0', afterConnect: true, bytes: Buffer.from([0x80, 6, 0, 1, 0, 1, 0x61, 0]) },
    { name: 'SUBSCRIBE with no topic', afterConnect: true, bytes: Buffer.from([0x82, 2, 0, 1]) },
    { name: 'remaining length 268 MB, 1 KB sent', afterConnect: true, bytes: Buffer.concat([Buffer.from([0x30]), varint(268_435_455), gen.bytes(1024)]) },
    { name: 'random bytes after CONNECT', afterConnect: true, bytes: gen.bytes(512) },
    { name: 'PUBLISH topic not UTF-8', afterConnect: true, bytes: publishPacket(Buffer.from([0xff, 0xfe, 0x2f]), Buffer.from('x')) },
  ];
  return cases;
}
