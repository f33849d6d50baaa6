/**
 * The traffic model: each flow kind is a generator function that writes one frame per step
 * through the {@link FrameWriter} and yields the frame's length. The driver interleaves many
 * live flows, so conversations overlap in time as on a real link.
 */
import { DNS_TYPE, dnsAnswer, dnsQuery, httpGet, httpResponseHead, ntpPacket, tlsClientHello } from './app.js';
import { type Path, type FrameWriter, TCP_FLAGS } from './frame.js';
import { GATEWAY_MAC, type Endpoint } from './hosts.js';
import type { Prng } from './prng.js';

/** A flow in progress: each `next()` writes one frame at `writer.pos` and yields its length. */
export type Flow = Generator<number, void, void>;

/** What flows draw on: the writer, the PRNG and the endpoints. */
export interface FlowContext {
  readonly w: FrameWriter;
  readonly rng: Prng;
  readonly clients: readonly Endpoint[];
  readonly servers: { readonly 4: readonly Endpoint[]; readonly 6: readonly Endpoint[] };
  readonly resolvers: { readonly 4: readonly Endpoint[]; readonly 6: readonly Endpoint[] };
  /** Names looked up, sent as SNI and as HTTP Host. */
  readonly domains: readonly string[];
}

const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const { SYN, ACK, FIN, PSH, RST } = TCP_FLAGS;
/** Bytes of TCP payload per full-sized segment (1500 MTU, IPv4, 20-byte TCP header minus options). */
const MSS = 1448;

/** The two directions between a client and a host beyond the gateway. */
function pathsBetween(client: Endpoint, server: Endpoint, serverTtl = 52): [Path, Path] {
  const vlans = client.vlans;
  return [
    { src: client, dst: server, srcMac: client.mac, dstMac: GATEWAY_MAC, vlans, outgoing: true, ttl: 64 },
    { src: server, dst: client, srcMac: GATEWAY_MAC, dstMac: client.mac, vlans, outgoing: false, ttl: serverTtl },
  ];
}

function ephemeralPort(rng: Prng): number {
  return 49152 + rng.int(16384);
}

/** A server of the client's address family. */
function serverFor(ctx: FlowContext, client: Endpoint): Endpoint {
  return ctx.rng.pick(ctx.servers[client.family]);
}

/**
 * A TCP connection: handshake (with MSS option), one request, a response of `1..60`
 * segments acknowledged every second segment, then FIN/FIN/ACK (or, rarely, a reset).
 * `kind` decides the request: TLS ClientHello with SNI (443), HTTP GET with Host (80), or
 * opaque bytes to another well-known port.
 */
export function* tcpSession(ctx: FlowContext, kind: 'tls' | 'http' | 'other'): Flow {
  const { w, rng } = ctx;
  const client = rng.pick(ctx.clients);
  const [up, down] = pathsBetween(client, serverFor(ctx, client));
  const sport = ephemeralPort(rng);
  const dport = kind === 'tls' ? 443 : kind === 'http' ? 80 : rng.pick([22, 5432, 3389, 8443, 25, 9100]);
  let c = rng.u32();
  let s = rng.u32();
  yield w.tcp(up, sport, dport, c, 0, SYN, null, 0, 1460);
  c++;
  yield w.tcp(down, dport, sport, s, c, SYN | ACK, null, 0, 1460);
  s++;
  yield w.tcp(up, sport, dport, c, s, ACK, null);

  const host = rng.pick(ctx.domains);
  const request = kind === 'tls' ? tlsClientHello(host, rng.fill(new Uint8Array(32))) : kind === 'http' ? httpGet(host, `/files/${rng.int(100000)}.bin`) : null;
  const requestLen = request ? request.length : rng.range(40, 400);
  yield w.tcp(up, sport, dport, c, s, PSH | ACK, request, requestLen);
  c += requestLen;
  yield w.tcp(down, dport, sport, s, c, ACK, null);

  const segments = rng.range(1, 60);
  let remaining = (segments - 1) * MSS + rng.range(1, MSS);
  if (kind === 'http') {
    const head = httpResponseHead(remaining);
    yield w.tcp(down, dport, sport, s, c, PSH | ACK, head);
    s += head.length;
  }
  for (let i = 1; remaining > 0; i++) {
    const len = Math.min(MSS, remaining);
    remaining -= len;
    yield w.tcp(down, dport, sport, s, c, remaining === 0 ? PSH | ACK : ACK, null, len);
    s += len;
    if (i % 2 === 0 || remaining === 0) yield w.tcp(up, sport, dport, c, s, ACK, null);
  }

  if (rng.chance(0.05)) {
    yield w.tcp(up, sport, dport, c, s, RST | ACK, null);
    return;
  }
  yield w.tcp(up, sport, dport, c, s, FIN | ACK, null);
  c++;
  yield w.tcp(down, dport, sport, s, c, FIN | ACK, null);
  s++;
  yield w.tcp(up, sport, dport, c, s, ACK, null);
}

/** A DNS lookup over UDP: query to the resolver of the client's family, one answer back. */
export function* dnsLookup(ctx: FlowContext): Flow {
  const { w, rng } = ctx;
  const client = rng.pick(ctx.clients);
  const [up, down] = pathsBetween(client, rng.pick(ctx.resolvers[client.family]), 63);
  const sport = ephemeralPort(rng);
  const id = rng.int(65536);
  const name = rng.pick(ctx.domains);
  const family = rng.chance(0.7) ? 4 : 6;
  yield w.udp(up, sport, 53, dnsQuery(id, name, family === 4 ? DNS_TYPE.A : DNS_TYPE.AAAA));
  yield w.udp(down, 53, sport, dnsAnswer(id, name, rng.pick(ctx.servers[family]), rng.range(30, 3600)));
}

/** 1–4 ICMP (or ICMPv6) echo request/reply pairs with 56 data bytes, like `ping`. */
export function* ping(ctx: FlowContext): Flow {
  const { w, rng } = ctx;
  const client = rng.pick(ctx.clients);
  const [up, down] = pathsBetween(client, serverFor(ctx, client));
  const [request, reply] = client.family === 4 ? [8, 0] : [128, 129];
  const id = rng.int(65536);
  const count = rng.range(1, 4);
  for (let seq = 1; seq <= count; seq++) {
    yield w.icmp(up, request, 0, (id << 16) | seq, null, 56);
    yield w.icmp(down, reply, 0, (id << 16) | seq, null, 56);
  }
}

/** ARP who-has for the client's gateway (x.x.x.1), broadcast, and the gateway's reply. */
export function* arpExchange(ctx: FlowContext, client: Endpoint): Flow {
  const gw: Endpoint = { ...client, text: 'gateway', v4: ((client.v4 & 0xffffff00) | 1) >>> 0, mac: GATEWAY_MAC };
  const vlans = client.vlans;
  const ask: Path = { src: client, dst: gw, srcMac: client.mac, dstMac: BROADCAST_MAC, vlans, outgoing: true, ttl: 0 };
  const tell: Path = { src: gw, dst: client, srcMac: GATEWAY_MAC, dstMac: client.mac, vlans, outgoing: false, ttl: 0 };
  yield ctx.w.arp(ask, 1);
  yield ctx.w.arp(tell, 2);
}

/**
 * IPv6 neighbour discovery for the client's gateway (prefix::1): a Neighbor Solicitation to the
 * solicited-node multicast group and the gateway's Neighbor Advertisement (RFC 4861 §4.3–4.4).
 */
export function* neighborDiscovery(ctx: FlowContext, client: Endpoint): Flow {
  const gwAddr = client.v6.slice();
  gwAddr.fill(0, 8, 15);
  gwAddr[15] = 1;
  const gw: Endpoint = { ...client, text: 'gateway', v6: gwAddr, mac: GATEWAY_MAC };
  const group = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, gwAddr[13]!, gwAddr[14]!, gwAddr[15]!);
  const groupMac = Uint8Array.of(0x33, 0x33, 0xff, gwAddr[13]!, gwAddr[14]!, gwAddr[15]!);
  const solicited: Endpoint = { ...client, text: 'solicited-node', v6: group, mac: groupMac };
  const vlans = client.vlans;
  const ask: Path = { src: client, dst: solicited, srcMac: client.mac, dstMac: groupMac, vlans, outgoing: true, ttl: 255 };
  const tell: Path = { src: gw, dst: client, srcMac: GATEWAY_MAC, dstMac: client.mac, vlans, outgoing: false, ttl: 255 };
  yield ctx.w.icmp(ask, 135, 0, 0, Uint8Array.from([...gwAddr, 1, 1, ...client.mac]));
  yield ctx.w.icmp(tell, 136, 0, 0x60000000, Uint8Array.from([...gwAddr, 2, 1, ...GATEWAY_MAC]));
}

/** A UDP datagram too big for the MTU, sent as 2–5 IP fragments (IPv4 or IPv6 Fragment header). */
export function* fragmentedDatagram(ctx: FlowContext, poolOffset: (len: number) => number): Flow {
  const { w, rng } = ctx;
  const client = rng.pick(ctx.clients);
  const [up] = pathsBetween(client, serverFor(ctx, client));
  const total = rng.range(1600, 7000);
  const fragSize = client.family === 4 ? 1480 : 1448;
  const poolOff = poolOffset(total);
  const ident = client.family === 4 ? rng.int(65536) : rng.u32();
  const sport = ephemeralPort(rng);
  const count = Math.ceil((8 + total) / fragSize);
  for (let i = 0; i < count; i++) yield w.udpFragment(up, sport, 5001, poolOff, total, fragSize, i, ident);
}

/** A small UDP exchange: NTP request/response (48 bytes each) or a one-way syslog message. */
export function* smallUdp(ctx: FlowContext): Flow {
  const { w, rng } = ctx;
  const client = rng.pick(ctx.clients);
  const [up, down] = pathsBetween(client, serverFor(ctx, client));
  if (rng.chance(0.5)) {
    const now = 1_700_000_000 + rng.int(100_000_000);
    yield w.udp(up, 123, 123, ntpPacket(false, now));
    yield w.udp(down, 123, 123, ntpPacket(true, now));
  } else {
    yield w.udp(up, ephemeralPort(rng), 514, null, rng.range(80, 300));
  }
}
