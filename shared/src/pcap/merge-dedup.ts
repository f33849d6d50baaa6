/**
 * Duplicate detection for merge: "the same packet seen by two sensors". A packet is a duplicate
 * when an earlier packet from ANOTHER input, at most `windowNs` before it, has the same original
 * length and byte-identical captured data.
 *
 * Memory is bounded by the traffic inside the window (copies of the packets seen in the last
 * `windowNs`), not by input size. Packets must be offered in time order (merge output order).
 */
import type { PacketView } from './types.js';

interface Recent {
  sec: number;
  nsec: number;
  input: number;
  hash: number;
  origLen: number;
  data: Uint8Array;
}

/** Bytes of each packet hashed (the rest is compared only on a hash hit). */
const HASHED_PREFIX = 128;

export class DuplicateFilter {
  /** Packets of the window in time order (a queue: `head` is the oldest live entry). */
  private recent: Recent[] = [];
  private head = 0;
  private readonly byHash = new Map<number, Recent[]>();

  constructor(private readonly windowNs: number) {}

  /** True when `packet` duplicates a recent packet of another input; otherwise remembers it. */
  isDuplicate(packet: PacketView, input: number): boolean {
    this.evictBefore(packet.sec, packet.nsec);
    const hash = hashPacket(packet.data, packet.origLen);
    const bucket = this.byHash.get(hash);
    if (bucket) {
      for (const seen of bucket) {
        if (seen.input !== input && seen.origLen === packet.origLen && equalBytes(seen.data, packet.data)) return true;
      }
    }
    const entry: Recent = { sec: packet.sec, nsec: packet.nsec, input, hash, origLen: packet.origLen, data: packet.data.slice() };
    this.recent.push(entry);
    if (bucket) bucket.push(entry);
    else this.byHash.set(hash, [entry]);
    return false;
  }

  /** Entries remembered right now (for tests and counters). */
  get size(): number {
    return this.recent.length - this.head;
  }

  private evictBefore(sec: number, nsec: number): void {
    const recent = this.recent;
    while (this.head < recent.length) {
      const old = recent[this.head] as Recent;
      const ageNs = (sec - old.sec) * 1e9 + (nsec - old.nsec);
      if (ageNs <= this.windowNs) break;
      const bucket = this.byHash.get(old.hash) as Recent[];
      if (bucket.length === 1) this.byHash.delete(old.hash);
      else bucket.splice(bucket.indexOf(old), 1);
      this.head++;
    }
    // Compact now and then so the queue array does not grow with input size.
    if (this.head > 4096 && this.head * 2 > recent.length) {
      this.recent = recent.slice(this.head);
      this.head = 0;
    }
  }
}

/** FNV-1a over the original length and the first HASHED_PREFIX captured bytes. */
function hashPacket(data: Uint8Array, origLen: number): number {
  let h = (0x811c9dc5 ^ origLen ^ (data.length << 16)) >>> 0;
  const n = Math.min(data.length, HASHED_PREFIX);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ (data[i] as number), 0x01000193);
  return h >>> 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
