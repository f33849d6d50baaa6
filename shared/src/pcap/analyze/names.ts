/**
 * Application-layer names seen in TCP/UDP payloads: DNS query names, TLS ClientHello SNI and
 * HTTP Host headers, each counted in a bounded table. Cheap first-byte checks keep the cost
 * negligible for packets that cannot carry one.
 */
import type { DecodedPacket, PacketView } from '../types.js';
import { dnsQueryName } from './app/dns.js';
import { httpRequestHost } from './app/http.js';
import { NameText } from './app/text.js';
import { tlsClientHelloSni } from './app/tls.js';
import { BoundedTable } from './bounded-table.js';
import type { NameCount } from './report.js';

/** First letters of HTTP methods (GET, POST, PUT, PATCH, HEAD, DELETE, OPTIONS, CONNECT, TRACE). */
const HTTP_METHOD_INITIALS = new Uint8Array(256);
for (const c of 'GPHDOCT') HTTP_METHOD_INITIALS[c.charCodeAt(0)] = 1;
const DNS_PORT = 53;
const MDNS_PORT = 5353;

interface Count {
  n: number;
}
const blank = (): Count => ({ n: 0 });
const reset = (c: Count): void => {
  c.n = 0;
};

export class NameCounter {
  private readonly dns: BoundedTable<Count>;
  private readonly sni: BoundedTable<Count>;
  private readonly http: BoundedTable<Count>;
  /** Names are built here; one seen before comes back as the same string (no allocation). */
  private readonly text = new NameText(65_536, 4 << 20);
  /** Per table, by NameText cache entry: the count of that name when it is in the exact table (no Map lookup). */
  private readonly dnsMemo: Count[] = [];
  private readonly sniMemo: Count[] = [];
  private readonly httpMemo: Count[] = [];

  constructor(cap = 50_000, sketch = 5_000) {
    this.dns = new BoundedTable(cap, blank, reset, sketch);
    this.sni = new BoundedTable(cap, blank, reset, sketch);
    this.http = new BoundedTable(cap, blank, reset, sketch);
  }

  add(view: PacketView, pkt: DecodedPacket): void {
    const len = pkt.payloadLength;
    if (len <= 0 || pkt.payloadOffset < 0) return;
    const d = view.data;
    const off = pkt.payloadOffset;
    const { sport, dport } = pkt;
    if (pkt.ipProto === 17) {
      if (sport === DNS_PORT || dport === DNS_PORT || sport === MDNS_PORT || dport === MDNS_PORT) {
        this.bump(this.dns, this.dnsMemo, dnsQueryName(d, off, len, false, this.text));
      }
      return;
    }
    if (pkt.ipProto !== 6) return;
    if (sport === DNS_PORT || dport === DNS_PORT) {
      this.bump(this.dns, this.dnsMemo, dnsQueryName(d, off, len, true, this.text));
      return;
    }
    const first = d[off]!;
    if (first === 0x16) this.bump(this.sni, this.sniMemo, tlsClientHelloSni(d, off, len, this.text));
    else if (HTTP_METHOD_INITIALS[first] === 1) this.bump(this.http, this.httpMemo, httpRequestHost(d, off, len, this.text));
  }

  rows(n: number): { dns: NameCount[]; tlsSni: NameCount[]; httpHosts: NameCount[] } {
    const list = (t: BoundedTable<Count>): NameCount[] =>
      t
        .top(n, (c) => c.n)
        .map(({ key, value, approximate }) => ({
          name: key,
          count: value.n,
          ...(approximate ? { approximate: true as const } : {}),
        }));
    return { dns: list(this.dns), tlsSni: list(this.sni), httpHosts: list(this.http) };
  }

  private bump(table: BoundedTable<Count>, memo: Count[], name: string | null): void {
    if (name === null) return;
    const e = this.text.lastEntry;
    const known = e >= 0 ? memo[e] : undefined;
    if (known !== undefined) {
      known.n++;
      return;
    }
    const c = table.touch(name, 1);
    c.n++;
    // Exact rows keep their value object; sketch rows may pass it to another name on eviction.
    if (e >= 0 && table.holdsExactly(name)) memo[e] = c;
  }
}
