/**
 * The server name (SNI, RFC 6066 §3) of a TLS ClientHello (RFC 8446 §4.1.2) that starts a TCP
 * segment's payload. Best effort, by design: only the captured bytes of this one segment are
 * read (no TCP reassembly), so a ClientHello split across segments before its SNI extension,
 * or cut by snaplen, yields null — as does anything that is not a well-formed ClientHello.
 *
 * @example
 * tlsClientHelloSni(payload, 0, payload.length); // "example.com"
 */
import { NameText } from './text.js';

/** Builds names for callers that pass no NameText of their own (no cache). */
const plain = new NameText();

/** `out`: where the name is built (pass one with a cache to get repeated names without allocating). */
export function tlsClientHelloSni(d: Uint8Array, off: number, len: number, out: NameText = plain): string | null {
  const end = off + len;
  // Record header: handshake (22), version 3.x, length; then handshake type ClientHello (1).
  if (len < 9 || d[off] !== 0x16 || d[off + 1] !== 3 || d[off + 2]! > 4 || d[off + 5] !== 1) return null;
  let p = off + 9 + 2 + 32; // handshake header, client version, random
  if (p >= end) return null;
  p += 1 + d[p]!; // session id
  if (p + 2 > end) return null;
  p += 2 + ((d[p]! << 8) | d[p + 1]!); // cipher suites
  if (p + 1 > end) return null;
  p += 1 + d[p]!; // compression methods
  if (p + 2 > end) return null;
  const extEnd = Math.min(end, p + 2 + ((d[p]! << 8) | d[p + 1]!));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = (d[p]! << 8) | d[p + 1]!;
    const extLen = (d[p + 2]! << 8) | d[p + 3]!;
    p += 4;
    if (type === 0) return serverName(d, p, Math.min(extEnd, p + extLen), out);
    p += extLen;
  }
  return null;
}

/** First host_name entry of a ServerNameList. */
function serverName(d: Uint8Array, p: number, end: number, out: NameText): string | null {
  if (p + 2 > end) return null;
  const listEnd = Math.min(end, p + 2 + ((d[p]! << 8) | d[p + 1]!));
  p += 2;
  while (p + 3 <= listEnd) {
    const type = d[p]!;
    const n = (d[p + 1]! << 8) | d[p + 2]!;
    p += 3;
    if (p + n > listEnd) return null;
    if (type === 0 && n > 0) {
      out.reset();
      out.appendPrintable(d, p, p + n);
      return out.text();
    }
    p += n;
  }
  return null;
}
