/**
 * The question name of a DNS query (RFC 1035 §4.1): over UDP the message is the whole payload,
 * over TCP it follows a 2-byte length (§4.2.2) and must start the segment. Responses
 * (QR = 1) return null, so each lookup counts once. Compression pointers are followed with a
 * hop limit; anything malformed or cut short returns null.
 *
 * @example
 * dnsQueryName(payload, 0, payload.length, false); // "example.com"
 */
import { NameText } from './text.js';

const MAX_NAME = 255;
const MAX_POINTERS = 16;
/** Builds names for callers that pass no NameText of their own (no cache). */
const plain = new NameText();

/** `out`: where the name is built (pass one with a cache to get repeated names without allocating). */
export function dnsQueryName(d: Uint8Array, off: number, len: number, overTcp: boolean, out: NameText = plain): string | null {
  let end = off + len;
  if (overTcp) {
    if (len < 2) return null;
    const msgLen = (d[off]! << 8) | d[off + 1]!;
    off += 2;
    end = Math.min(end, off + msgLen);
  }
  if (end - off < 12 + 5) return null;
  const flags = d[off + 2]!;
  if (flags & 0x80) return null; // a response
  if ((flags & 0x78) !== 0) return null; // opcode other than QUERY
  const qdcount = (d[off + 4]! << 8) | d[off + 5]!;
  if (qdcount === 0) return null;
  return readName(d, off, off + 12, end, out);
}

/** Reads a (possibly compressed) name at `at` of the message starting at `msg`. */
function readName(d: Uint8Array, msg: number, at: number, end: number, out: NameText): string | null {
  out.reset();
  let total = 0;
  for (let hops = 0; at < end;) {
    const n = d[at]!;
    if (n === 0) {
      if (total === 0) out.appendByte(0x2e); // the root: "."
      return out.text();
    }
    if ((n & 0xc0) === 0xc0) {
      if (at + 1 >= end || ++hops > MAX_POINTERS) return null;
      at = msg + (((n & 0x3f) << 8) | d[at + 1]!);
      continue;
    }
    if (n & 0xc0) return null; // reserved label types
    if (at + 1 + n > end) return null;
    if (total > 0) out.appendByte(0x2e);
    total += n + 1;
    if (total > MAX_NAME) return null;
    out.appendPrintable(d, at + 1, at + 1 + n);
    at += 1 + n;
  }
  return null;
}
