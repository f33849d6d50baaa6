/**
 * CIDR parsing and canonical form for the network map. Canonical = the network address (no host
 * bits), IPv4 dotted quad, IPv6 lower-case with the longest run of zero groups compressed
 * (RFC 5952), then `/prefix`: `10.1.2.0/24`, `2001:db8::/64`. Subnets are stored and compared in
 * this form, so `2001:DB8:0::/64` and `2001:db8::/64` are one subnet.
 *
 * @example
 *   parseCidr('10.1.2.0/24')   // { ok: true, cidr: { family: 4, text: '10.1.2.0/24', ... } }
 *   parseCidr('10.1.2.5/24')   // { ok: false, error: 'host bits set: the network is 10.1.2.0/24' }
 *   canonicalCidr('10.1.2.5/24') // '10.1.2.0/24' (ingest: agents' subnets are masked, not refused)
 */

export interface Cidr {
  family: 4 | 6;
  prefix: number;
  /** Address as a big integer (32 or 128 bits), host bits cleared. */
  network: bigint;
  /** Canonical text. */
  text: string;
}

export type CidrResult = { ok: true; cidr: Cidr; hostBits: boolean } | { ok: false; error: string };

/** Label of an agent's folded row and of any subnet text that is not a CIDR. */
export const OTHER_NET = 'other';

/**
 * Parses `address/prefix` (a bare address is a /32 or /128). `hostBits` tells whether the address
 * had bits set beyond the prefix (the returned cidr has them cleared).
 */
export function parseAnyCidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const prefixText = slash < 0 ? null : text.slice(slash + 1);
  const v4 = parseIpv4(addressText);
  const address = v4 ?? parseIpv6(addressText);
  if (address === null) return { ok: false, error: `not an IPv4 or IPv6 address: ${JSON.stringify(addressText.slice(0, 64))}` };
  const family = v4 !== null ? 4 : 6;
  const bits = family === 4 ? 32 : 128;
  let prefix = bits;
  if (prefixText !== null) {
    if (!/^\d{1,3}$/.test(prefixText)) return { ok: false, error: `prefix length must be a number 0-${bits}, got ${JSON.stringify(prefixText.slice(0, 16))}` };
    prefix = Number(prefixText);
    if (prefix > bits) return { ok: false, error: `prefix length ${prefix} out of range 0-${bits} for IPv${family}` };
  }
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  const network = address & ~hostMask & ((1n << BigInt(bits)) - 1n);
  const text2 = `${family === 4 ? formatIpv4(network) : formatIpv6(network)}/${prefix}`;
  return { ok: true, cidr: { family, prefix, network, text: text2 }, hostBits: (address & hostMask) !== 0n };
}

/** Strict form for people's input: a CIDR whose host bits are clear (else an error naming the network). */
export function parseCidr(text: string): { ok: true; cidr: Cidr } | { ok: false; error: string } {
  const r = parseAnyCidr(text);
  if (!r.ok) return r;
  if (r.hostBits) return { ok: false, error: `host bits set: the network is ${r.cidr.text}` };
  return { ok: true, cidr: r.cidr };
}

/** Ingest form: the canonical CIDR of an agent's subnet text (host bits cleared), or `other`. */
export function canonicalCidr(text: string): string {
  if (!text.includes('/')) return OTHER_NET;
  const r = parseAnyCidr(text);
  return r.ok ? r.cidr.text : OTHER_NET;
}

/** True when the two CIDRs overlap (one contains the other). */
export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  const prefix = Math.min(a.prefix, b.prefix);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
  return (a.network & mask) === (b.network & mask);
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith('0'))) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = (value << 8n) | BigInt(n);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(text)) return null;
  let head = text;
  let tail4: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (tail4 === null) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const group = (s: string): string[] | null => (s === '' ? [] : s.split(':'));
  const left = group(halves[0]!);
  const right = halves.length === 2 ? group(halves[1]!) : [];
  if (left === null || right === null) return null;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== null) value = (value & ~0xffffffffn) | tail4;
  return value;
}

function formatIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
}

function formatIpv6(v: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt((7 - i) * 16)) & 0xffffn));
  // Longest run of ≥ 2 zero groups (first on ties) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
