/**
 * The Host header of an HTTP/1.x request (RFC 9112 §3.2) that starts a TCP segment's payload,
 * on any port. Only the captured bytes of this segment are read: a request whose headers
 * continue in a later segment before the Host line yields null. Host is lowercased; a port
 * stays (`example.com:8080`).
 *
 * @example
 * httpRequestHost(payload, 0, payload.length); // "example.com"
 */
import { NameText } from './text.js';

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'].map((m) => Uint8Array.from(m + ' ', (c) => c.charCodeAt(0)));
/** Headers are looked for in the first this-many bytes. */
const MAX_HEAD = 8192;
const CR = 13;
const LF = 10;
/** Builds names for callers that pass no NameText of their own (no cache). */
const plain = new NameText();

/** `out`: where the name is built (pass one with a cache to get repeated names without allocating). */
export function httpRequestHost(d: Uint8Array, off: number, len: number, out: NameText = plain): string | null {
  const end = off + Math.min(len, MAX_HEAD);
  if (len < 16 || !startsWithMethod(d, off, end)) return null;
  let lineEnd = indexOfCrlf(d, off, end);
  if (lineEnd < 0 || !hasHttpVersion(d, off, lineEnd)) return null;
  for (let p = lineEnd + 2; p < end; p = lineEnd + 2) {
    lineEnd = indexOfCrlf(d, p, end);
    if (lineEnd < 0 || lineEnd === p) return null; // cut short, or end of headers
    if (lineEnd - p > 5 && isHostName(d, p)) {
      let from = p + 5;
      let to = lineEnd;
      while (from < to && (d[from] === 0x20 || d[from] === 0x09)) from++;
      while (to > from && (d[to - 1] === 0x20 || d[to - 1] === 0x09)) to--;
      if (to <= from) return null;
      out.reset();
      out.appendPrintable(d, from, to);
      return out.text();
    }
  }
  return null;
}

function startsWithMethod(d: Uint8Array, off: number, end: number): boolean {
  next: for (const m of METHODS) {
    if (off + m.length > end) continue;
    for (let i = 0; i < m.length; i++) if (d[off + i] !== m[i]) continue next;
    return true;
  }
  return false;
}

function indexOfCrlf(d: Uint8Array, from: number, end: number): number {
  for (let i = from; i + 1 < end; i++) if (d[i] === CR && d[i + 1] === LF) return i;
  return -1;
}

/** The request line ends in " HTTP/1.x". */
function hasHttpVersion(d: Uint8Array, from: number, lineEnd: number): boolean {
  const v = ' HTTP/1.';
  const at = lineEnd - v.length - 1;
  if (at < from) return false;
  for (let i = 0; i < v.length; i++) if (d[at + i] !== v.charCodeAt(i)) return false;
  return true;
}

/** The line at `p` starts with "host:" in any case. */
function isHostName(d: Uint8Array, p: number): boolean {
  return (d[p]! | 0x20) === 0x68 && (d[p + 1]! | 0x20) === 0x6f && (d[p + 2]! | 0x20) === 0x73 && (d[p + 3]! | 0x20) === 0x74 && d[p + 4] === 0x3a;
}
