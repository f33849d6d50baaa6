/**
 * Application payloads the generator puts on the wire: DNS queries and answers, a TLS 1.3
 * ClientHello carrying SNI, HTTP/1.1 requests with a Host header and response heads. Each
 * function returns fresh bytes exactly as they appear after the transport header.
 */
import type { Endpoint } from './hosts.js';

const enc = new TextEncoder();

/** DNS record types the generator asks for. */
export const DNS_TYPE = { A: 1, AAAA: 28 } as const;

/** Encodes a domain name as DNS labels (RFC 1035 §3.1). */
function dnsName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.')) {
    const bytes = enc.encode(label);
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`bad DNS label in "${name}"`);
    out.push(bytes.length, ...bytes);
  }
  out.push(0);
  return out;
}

/** A standard recursive query for `name` (one question). */
export function dnsQuery(id: number, name: string, type: number): Uint8Array {
  return Uint8Array.from([id >>> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...dnsName(name), type >>> 8, type & 0xff, 0, 1]);
}

/** The answer to {@link dnsQuery}: the question echoed plus one A/AAAA record for `addr`. */
export function dnsAnswer(id: number, name: string, addr: Endpoint, ttl: number): Uint8Array {
  const type = addr.family === 4 ? DNS_TYPE.A : DNS_TYPE.AAAA;
  const rdata = addr.family === 4 ? [addr.v4 >>> 24, (addr.v4 >>> 16) & 0xff, (addr.v4 >>> 8) & 0xff, addr.v4 & 0xff] : [...addr.v6];
  return Uint8Array.from([
    id >>> 8,
    id & 0xff,
    0x81,
    0x80,
    0,
    1,
    0,
    1,
    0,
    0,
    0,
    0,
    ...dnsName(name),
    type >>> 8,
    type & 0xff,
    0,
    1,
    0xc0,
    0x0c,
    type >>> 8,
    type & 0xff,
    0,
    1,
    ttl >>> 24,
    (ttl >>> 16) & 0xff,
    (ttl >>> 8) & 0xff,
    ttl & 0xff,
    0,
    rdata.length,
    ...rdata,
  ]);
}

function u16(n: number): number[] {
  return [n >>> 8, n & 0xff];
}
function u24(n: number): number[] {
  return [n >>> 16, (n >>> 8) & 0xff, n & 0xff];
}

/**
 * A TLS record holding a ClientHello (RFC 8446 §4.1.2) with server_name (RFC 6066 §3),
 * supported_groups, signature_algorithms and supported_versions extensions. `random` must be
 * 32 bytes (also used as the legacy session id).
 */
export function tlsClientHello(sni: string, random: Uint8Array): Uint8Array {
  const host = [...enc.encode(sni)];
  const sniList = [0, ...u16(host.length), ...host];
  const ext = [
    ...u16(0x0000),
    ...u16(sniList.length + 2),
    ...u16(sniList.length),
    ...sniList,
    ...u16(0x000a),
    ...u16(8),
    ...u16(6),
    ...u16(0x001d),
    ...u16(0x0017),
    ...u16(0x0018),
    ...u16(0x000d),
    ...u16(8),
    ...u16(6),
    ...u16(0x0403),
    ...u16(0x0804),
    ...u16(0x0401),
    ...u16(0x002b),
    ...u16(5),
    4,
    ...u16(0x0304),
    ...u16(0x0303),
  ];
  const suites = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030].flatMap(u16);
  const body = [...u16(0x0303), ...random, 32, ...random, ...u16(suites.length), ...suites, 1, 0, ...u16(ext.length), ...ext];
  const handshake = [1, ...u24(body.length), ...body];
  return Uint8Array.from([0x16, ...u16(0x0301), ...u16(handshake.length), ...handshake]);
}

/** `GET path HTTP/1.1` with Host, User-Agent and Accept headers. */
export function httpGet(host: string, path: string): Uint8Array {
  return enc.encode(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: pcapmesh-gen/1\r\nAccept: */*\r\n\r\n`);
}

/** A `200 OK` response head announcing `length` body bytes. */
export function httpResponseHead(length: number): Uint8Array {
  return enc.encode(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`);
}

/** An NTPv4 packet (RFC 5905): client request (mode 3) or server reply (mode 4), 48 bytes. */
export function ntpPacket(reply: boolean, seconds: number): Uint8Array {
  const out = new Uint8Array(48);
  const dv = new DataView(out.buffer);
  out[0] = reply ? 0x24 : 0x23; // LI 0, version 4, mode
  out[1] = reply ? 2 : 0; // stratum
  out[2] = 6; // poll interval 2^6 s
  out[3] = 0xe9; // precision
  const ntpSeconds = (seconds + 2_208_988_800) >>> 0; // NTP era 0 counts from 1900
  dv.setUint32(40, ntpSeconds); // transmit timestamp
  if (reply) {
    dv.setUint32(12, 0x0a010001); // reference id
    dv.setUint32(16, ntpSeconds); // reference timestamp
    dv.setUint32(32, ntpSeconds); // receive timestamp
  }
  return out;
}
