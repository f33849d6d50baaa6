/**
 * A small Bloom filter over 32-bit keys (double hashing, k = 4, ~10 bits per key: ~1 % false
 * positives). Used by the sidecar index for blocks with many distinct addresses.
 */

export const BLOOM_HASHES = 4;

/** Bits for `n` keys: a power of two ≥ 10·n, at least 64. */
export function bloomBits(n: number): number {
  let m = 64;
  while (m < n * 10) m *= 2;
  return m;
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A filter of `bits` bits (power of two) holding `keys`. */
export function bloomFrom(keys: Iterable<number>, bits: number): Uint8Array {
  const out = new Uint8Array(bits >>> 3);
  for (const key of keys) {
    const h1 = mix(key);
    const h2 = mix(key ^ 0x5bd1e995) | 1;
    for (let i = 0; i < BLOOM_HASHES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & (bits - 1);
      out[bit >>> 3]! |= 1 << (bit & 7);
    }
  }
  return out;
}

/** False means `key` is certainly absent. */
export function bloomHas(filter: Uint8Array, key: number): boolean {
  const bits = filter.length << 3;
  const h1 = mix(key);
  const h2 = mix(key ^ 0x5bd1e995) | 1;
  for (let i = 0; i < BLOOM_HASHES; i++) {
    const bit = (h1 + Math.imul(i, h2)) & (bits - 1);
    if ((filter[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}
