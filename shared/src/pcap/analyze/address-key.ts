/**
 * Address text from the compact map keys the conversation tables use: an IPv4 address is 2
 * UTF-16 code units (the high and low 16 bits), an IPv6 address 8. Turned back into text only
 * when a report is written.
 */
import { formatIpv4, formatIpv6 } from '../decode.js';

/** The text form of an address key ("10.0.0.1", "2001:db8::1"). */
export function addressText(key: string): string {
  if (key.length === 2) return formatIpv4(((key.charCodeAt(0) << 16) | key.charCodeAt(1)) >>> 0);
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = key.charCodeAt(i);
    bytes[2 * i] = w >>> 8;
    bytes[2 * i + 1] = w & 0xff;
  }
  return formatIpv6(bytes, 0);
}
