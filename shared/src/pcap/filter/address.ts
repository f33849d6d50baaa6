/**
 * Text → numbers for filter operands: IPv4 (full or abbreviated network), IPv6, and libpcap
 * numbers (decimal, 0x hex, leading-0 octal). Each returns null for text that is not one.
 */

/** A libpcap number: `80`, `0x50`, `0120` (octal). Null when not a number or above 2^32-1. */
export function parseNumber(text: string): number | null {
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) value = parseInt(text.slice(2), 16);
  else if (/^0[0-7]+$/.test(text)) value = parseInt(text, 8);
  else if (/^(0|[1-9][0-9]*)$/.test(text)) value = parseInt(text, 10);
  else return null;
  return value <= 0xffffffff ? value : null;
}

/** A dotted quad `a.b.c.d` as an unsigned 32-bit int. */
export function parseIpv4(text: string): number | null {
  const net = parseIpv4Network(text);
  return net && net.parts === 4 ? net.addr : null;
}

/**
 * An IPv4 network written as 1–4 dotted parts (`10`, `10.1`, `10.1.2`, `10.1.2.3`), as libpcap
 * accepts after `net`: `addr` left-aligned, `parts` says how many octets were written.
 */
export function parseIpv4Network(text: string): { addr: number; parts: number } | null {
  const parts = text.split('.');
  if (parts.length > 4) return null;
  let addr = 0;
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    addr = addr * 256 + octet;
  }
  return { addr: (addr * 2 ** (8 * (4 - parts.length))) >>> 0, parts: parts.length };
}

/** An IPv6 address (RFC 4291 text, with `::` and an optional trailing dotted quad) as 16 bytes. */
export function parseIpv6(text: string): Uint8Array | null {
  if (!text.includes(':') || !/^[0-9a-fA-F:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4(item);
        if (v4 === null) return null;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) out.push(parseInt(item, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const words = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}

/** The unsigned IPv4 mask of a prefix length 0..32. */
export function prefixMask4(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** True when `bytes` has a 1 bit past the first `prefix` bits. */
export function hasHostBits6(bytes: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < 128; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) return true;
  }
  return false;
}
