/**
 * The Internet checksum (RFC 1071) as the generator needs it: a running one's-complement sum
 * over byte ranges, plus a payload pool whose 16-bit word sums are precomputed so that the
 * checksum of a bulk TCP/UDP payload costs O(1) instead of a pass over its bytes.
 */
import type { Prng } from './prng.js';

/**
 * Adds the big-endian 16-bit words of `bytes[off, off+len)` to `sum` (an odd last byte is
 * padded with zero, as RFC 1071 says). Returns the unfolded sum; fold with {@link finish}.
 */
export function sum16(bytes: Uint8Array, off: number, len: number, sum = 0): number {
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i === end) sum += bytes[i]! << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it: the value to store in a header. */
export function finish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/**
 * Pseudo-random bytes that bulk payloads are copied from, with prefix sums of its 16-bit
 * words: {@link PayloadPool.sum} of any even-aligned range is two array reads.
 */
export class PayloadPool {
  readonly bytes: Uint8Array;
  private readonly prefix: Float64Array;

  constructor(rng: Prng, size = 1 << 18) {
    this.bytes = rng.fill(new Uint8Array(size));
    this.prefix = new Float64Array(size / 2 + 1);
    for (let w = 0; w < size / 2; w++) {
      this.prefix[w + 1] = this.prefix[w]! + ((this.bytes[2 * w]! << 8) | this.bytes[2 * w + 1]!);
    }
  }

  /** Unfolded checksum sum of `bytes[off, off+len)`; `off` must be even. */
  sum(off: number, len: number): number {
    if (off & 1) throw new Error(`pool offset must be even, got ${off}`);
    const words = len >>> 1;
    let s = this.prefix[(off >>> 1) + words]! - this.prefix[off >>> 1]!;
    if (len & 1) s += this.bytes[off + len - 1]! << 8;
    return s;
  }

  /** An even offset at which `len` bytes are available. */
  offsetFor(rng: Prng, len: number): number {
    return rng.int((this.bytes.length - len) >>> 1) << 1;
  }
}
