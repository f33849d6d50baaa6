/**
 * extract's limits: at most `maxPackets` packets and `maxBytes` captured bytes of matches, taken
 * in time order (the output is the unlimited output's longest prefix within both limits).
 *
 * - While scanning, `ScanPrefix` tells when no further file is needed: the files scanned so far,
 *   taken in the plan's order, hold MORE matches than a limit allows, and every file not yet
 *   scanned starts strictly after the latest match among them (by the file's time span, the same
 *   knowledge that selects files for the window). A rolling directory therefore stops reading
 *   soon after the limit; files that overlap in time are all read.
 * - While writing, `LimitedWriter` drops everything from the first packet that would exceed a
 *   limit on, and names that limit (`truncated`). A result is truncated only when a matching
 *   packet was really left out.
 */
import type { ScanResult } from './extract-scan.js';
import { compareTimestamps } from './timestamp.js';
import type { PacketView, Timestamp } from './types.js';
import type { PacketWriter } from './writer.js';

export interface ExtractLimits {
  /** Most packets in the output (absent: no limit). */
  maxPackets?: number;
  /** Most captured bytes (sum of caplen) in the output (absent: no limit). */
  maxBytes?: number;
}

export type TruncationReason = 'max-packets' | 'max-bytes';

/** Thrown by LimitedWriter.write once a limit is reached, to end the merge loop early. */
export class LimitReached extends Error {
  constructor(readonly reason: TruncationReason) {
    super(`extract limit reached: ${reason}`);
  }
}

/** Does a result of `packets`/`bytes` exceed the limits (so something must be left out)? */
export function exceeds(limits: ExtractLimits, packets: number, bytes: number): boolean {
  return (limits.maxPackets !== undefined && packets > limits.maxPackets) || (limits.maxBytes !== undefined && bytes > limits.maxBytes);
}

/** Passes packets to `inner` until one would exceed a limit; then throws LimitReached. */
export class LimitedWriter implements PacketWriter {
  bytes = 0;
  truncated: TruncationReason | undefined;

  constructor(
    private readonly inner: PacketWriter,
    private readonly limits: ExtractLimits,
  ) {}

  get packets(): number {
    return this.inner.packets;
  }

  write(packet: PacketView, snaplen?: number): void {
    const { maxPackets, maxBytes } = this.limits;
    if (maxPackets !== undefined && this.inner.packets + 1 > maxPackets) this.truncated = 'max-packets';
    else if (maxBytes !== undefined && this.bytes + packet.caplen > maxBytes) this.truncated = 'max-bytes';
    if (this.truncated) throw new LimitReached(this.truncated);
    this.inner.write(packet, snaplen);
    this.bytes += packet.caplen;
  }

  close(): void {
    this.inner.close();
  }
}

/**
 * Decides, as scan results come in, when the scanned prefix of the plan suffices (see the module
 * comment). `starts[i]` is file i's earliest packet time (null: unknown, never provably later).
 */
export class ScanPrefix {
  private readonly done: (ScanResult | undefined)[];
  private prefix = 0;
  private packets = 0;
  private bytes = 0;
  private latest: Timestamp | null = null;

  constructor(
    private readonly starts: (Timestamp | null)[],
    private readonly limits: ExtractLimits,
  ) {
    this.done = new Array<ScanResult | undefined>(starts.length);
  }

  /** Records file `index`'s result; true when no file after the scanned prefix is needed. */
  add(index: number, result: ScanResult): boolean {
    this.done[index] = result;
    while (this.prefix < this.done.length && this.done[this.prefix] !== undefined) {
      const r = this.done[this.prefix++]!;
      this.packets += r.packets;
      this.bytes += r.bytes;
      if (r.last && (!this.latest || compareTimestamps(r.last, this.latest) > 0)) this.latest = r.last;
    }
    if (!exceeds(this.limits, this.packets, this.bytes) || !this.latest) return false;
    for (let i = this.prefix; i < this.starts.length; i++) {
      const start = this.starts[i];
      if (this.done[i] === undefined && (!start || compareTimestamps(start, this.latest) <= 0)) return false;
    }
    return true;
  }
}
