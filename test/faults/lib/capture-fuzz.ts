/**
 * Mutated captures for the fault suite (test/faults/captures.test.ts): seed captures of every
 * format the library reads (µs and ns pcap of several link types, pcapng), then one seeded,
 * format-aware mutation each — truncation, bit flips, absurd lengths (record/block/caplen/snaplen),
 * wrong link types, pcapng block corruption (type, total length, trailing length, byte-order magic,
 * option lengths), records swapped or duplicated, empty and header-only files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeCaptures, writeCapture } from '@pcapmesh/shared/pcap';
import { prng } from './mqtt-fuzz.js';

export { prng };

export interface Seed {
  name: string;
  bytes: Buffer;
  format: 'pcap' | 'pcapng';
}

/** Seed captures written into `dir`: generated pcap (µs/ns, Ethernet/SLL/RAW) and a pcapng made from one by the library's merge. */
export function makeSeeds(dir: string): Seed[] {
  const specs = [
    { name: 'eth-us.pcap', opts: { seed: 1, packets: 120 } },
    { name: 'eth-ns.pcap', opts: { seed: 2, packets: 120, nanosecond: true } },
    { name: 'sll.pcap', opts: { seed: 3, packets: 80, linkType: 113 } },
    { name: 'raw.pcap', opts: { seed: 4, packets: 80, linkType: 101 } },
  ];
  const seeds: Seed[] = [];
  for (const s of specs) {
    const path = join(dir, s.name);
    writeCapture(path, { ...s.opts, start: 1_767_225_600 });
    seeds.push({ name: s.name, bytes: readFileSync(path), format: 'pcap' });
  }
  // Mixed link types merge into pcapng: an SHB, two IDBs and EPBs.
  const ng = join(dir, 'mixed.pcapng');
  mergeCaptures([join(dir, 'eth-us.pcap'), join(dir, 'sll.pcap')], ng, { format: 'pcapng' });
  seeds.push({ name: 'mixed.pcapng', bytes: readFileSync(ng), format: 'pcapng' });
  return seeds;
}

class G {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** Offsets of pcap records (after the 24-byte header), as far as the lengths can be followed. */
function pcapRecords(b: Buffer): number[] {
  if (b.length < 24) return [];
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  const out: number[] = [];
  for (let off = 24; off + 16 <= b.length && out.length < 100_000;) {
    out.push(off);
    const incl = le ? b.readUInt32LE(off + 8) : b.readUInt32BE(off + 8);
    off += 16 + incl;
  }
  return out;
}

/** Offsets of pcapng blocks, as far as the lengths can be followed. */
function pcapngBlocks(b: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off + 12 <= b.length && out.length < 100_000;) {
    out.push(off);
    const len = b.readUInt32LE(off + 4);
    if (len < 12) break;
    off += len;
  }
  return out;
}

const ABSURD = [0, 1, 11, 13, 0x7fffffff, 0xffffffff, 0x10000000, 0xfffffff0, 65536, 262145];
const LINK_TYPES = [0, 2, 99, 147, 228, 276, 0xffff, 0x7fffffff, 0xffffffff, 1, 101, 113];

/** One mutation of a seed; `label` names it for a failure report. */
export function mutate(seed: Seed, g0: () => number): { label: string; bytes: Buffer } {
  const g = new G(g0);
  const b = Buffer.from(seed.bytes);
  const kind = g.int(10);
  const u32 = (off: number, v: number) => {
    if (off + 4 <= b.length) b.writeUInt32LE(v >>> 0, off);
  };
  switch (kind) {
    case 0: {
      const at = g.r() < 0.2 ? g.int(Math.min(40, b.length)) : g.int(b.length);
      return { label: `truncated at ${at}`, bytes: b.subarray(0, at) };
    }
    case 1: {
      const n = 1 + g.int(16);
      for (let i = 0; i < n; i++) b[g.int(b.length)]! ^= 1 << g.int(8);
      return { label: `${n} bit flips`, bytes: b };
    }
    case 2: {
      if (seed.format === 'pcap') {
        const recs = pcapRecords(b);
        const rec = g.pick(recs);
        const v = g.pick(ABSURD);
        const field = g.pick([8, 12]);
        u32(rec + field, v);
        return { label: `record at ${rec}: ${field === 8 ? 'incl_len' : 'orig_len'} = ${v}`, bytes: b };
      }
      const blocks = pcapngBlocks(b);
      const blk = g.pick(blocks);
      const v = g.pick(ABSURD);
      const field = g.pick([4, 20, 24]);
      u32(blk + field, v);
      return { label: `block at ${blk}: u32 at +${field} = ${v}`, bytes: b };
    }
    case 3: {
      const v = g.pick(LINK_TYPES);
      if (seed.format === 'pcap') {
        u32(20, v);
        return { label: `link type ${v}`, bytes: b };
      }
      const idb = pcapngBlocks(b).find((o) => b.readUInt32LE(o) === 1);
      if (idb !== undefined) b.writeUInt16LE(v & 0xffff, idb + 8);
      return { label: `IDB link type ${v & 0xffff}`, bytes: b };
    }
    case 4: {
      if (seed.format === 'pcap') {
        const v = g.pick([0, 1, 0xffffffff, 0x7fffffff, 14, 15]);
        u32(16, v);
        return { label: `snaplen ${v}`, bytes: b };
      }
      const blocks = pcapngBlocks(b);
      const blk = g.pick(blocks);
      const what = g.int(5);
      if (what === 0) u32(blk, g.pick([0, 7, 0x0a0d0d0a, 0x80000001, 0xffffffff, 3, 6]));
      else if (what === 1) {
        const len = b.readUInt32LE(blk + 4);
        u32(blk + len - 4, len + 4 * (1 + g.int(4)));
      } else if (what === 2) u32(8, g.pick([0x4d3c2b1a, 0, 0xffffffff]));
      else if (what === 3)
        u32(16, g.pick([0xfffffff8, 0, 12])); // SHB section length (low word)
      else {
        // An option header of the block: absurd option length.
        const len = b.readUInt32LE(blk + 4);
        if (blk + len - 8 > blk + 8) b.writeUInt16LE(g.pick([0xffff, 0xfff0, 3]), blk + len - 8 - 2 - 4 * g.int(2));
      }
      return { label: `pcapng block at ${blk}: corruption ${what}`, bytes: b };
    }
    case 5: {
      const recs = seed.format === 'pcap' ? pcapRecords(b) : pcapngBlocks(b).slice(1);
      if (recs.length < 3) return { label: 'unchanged (too few records)', bytes: b };
      const i = 1 + g.int(recs.length - 2);
      const a = b.subarray(recs[i]!, recs[i + 1]!);
      const dup = Buffer.concat([b.subarray(0, recs[i + 1]!), a, a, b.subarray(recs[i + 1]!)]);
      return { label: `record ${i} repeated (time goes back)`, bytes: dup };
    }
    case 6:
      return { label: g.r() < 0.5 ? 'empty file' : 'header only', bytes: g.r() < 0.5 ? Buffer.alloc(0) : b.subarray(0, seed.format === 'pcap' ? 24 : 28) };
    case 7: {
      const at = g.int(b.length);
      const junk = Buffer.from(Array.from({ length: 1 + g.int(64) }, () => g.int(256)));
      return { label: `${junk.length} random bytes inserted at ${at}`, bytes: Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]) };
    }
    case 8: {
      // Timestamps: far future, zero, or ns field past a second.
      const recs = seed.format === 'pcap' ? pcapRecords(b) : [];
      if (recs.length === 0) return { label: 'unchanged (no records)', bytes: b };
      const rec = g.pick(recs);
      u32(rec + g.pick([0, 4]), g.pick([0, 0xffffffff, 2_000_000_000, 1_000_000_001]));
      return { label: `record at ${rec}: timestamp absurd`, bytes: b };
    }
    default: {
      const magic = g.pick([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);
      const tail = Buffer.from(Array.from({ length: 24 + g.int(2000) }, () => g.int(256)));
      tail.writeUInt32LE(magic, 0);
      return { label: `random bytes behind magic ${magic.toString(16)}`, bytes: tail };
    }
  }
}
