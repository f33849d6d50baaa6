/**
 * The deterministic traffic generator: a seeded mix of interleaved flows (TCP with TLS SNI or
 * HTTP Host, DNS, ICMP/ICMPv6 echo, ARP, IPv6 neighbour discovery, IP fragments, small UDP)
 * between VLAN-tagged and untagged IPv4/IPv6 hosts, written as classic pcap records. Pure:
 * it fills caller-supplied buffers; file output lives in `output.ts`.
 *
 * Same options → same bytes, always. Timestamps rise monotonically from `start` to about
 * `start + duration`, with a rate that swells and ebbs so per-second timelines are not flat.
 *
 * @example
 * const gen = new TrafficGenerator({ seed: 7, packets: 1000 });
 * const buf = new Uint8Array(1 << 20);
 * const head = gen.globalHeader();       // 24 bytes
 * let n = 0;
 * for (let len; (len = gen.nextRecord(buf, n)) > 0; ) n += len; // 1000 records
 */
import { MAX_CAPLEN, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from '../pcap-format.js';
import { LinkType } from '../types.js';
import { PayloadPool } from './checksum.js';
import { FrameWriter } from './frame.js';
import { type Flow, type FlowContext, arpExchange, dnsLookup, fragmentedDatagram, neighborDiscovery, ping, smallUdp, tcpSession } from './flows.js';
import { DEFAULT_CLIENTS, DEFAULT_RESOLVERS, DEFAULT_SERVERS, DOMAINS, type Endpoint, parseEndpoint } from './hosts.js';
import { Prng } from './prng.js';

export interface GenOptions {
  /** PRNG seed (integer). Default 1. */
  seed?: number;
  /** Time of the first packet in Unix seconds (fractions allowed). Default 1_700_000_000. */
  start?: number;
  /** Seconds of packet time the capture spans. Default 60. */
  duration?: number;
  /** Stop once this many record bytes (file size minus the 24-byte header) are written. */
  bytes?: number;
  /** Stop after this many packets. With neither `bytes` nor `packets`: 10 000 packets. */
  packets?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanosecond?: boolean;
  /** LINKTYPE_*: Ethernet (default), LINUX_SLL, LINUX_SLL2 or RAW. */
  linkType?: number;
  /** Client hosts, `ADDR[%VLAN[.VLAN]]`. Default {@link DEFAULT_CLIENTS}. */
  hosts?: readonly string[];
  /** Servers the clients talk to. Default {@link DEFAULT_SERVERS}. */
  servers?: readonly string[];
  /**
   * Relative frequency of each flow kind (per flow started), replacing the default mix, e.g.
   * `{ dns: 1 }` for DNS only or `{ tls: 9, dns: 1 }`. Kinds left out do not occur.
   */
  mix?: Readonly<Partial<Record<FlowKind, number>>>;
  /** Names looked up over DNS, sent as TLS SNI and as HTTP Host. Default {@link DOMAINS}. */
  domains?: readonly string[];
}

/** The kinds of flow the generator starts (see flows.ts). */
export const FLOW_KINDS = ['tls', 'http', 'tcp', 'dns', 'ping', 'arp', 'nd', 'frag', 'udp'] as const;
export type FlowKind = (typeof FLOW_KINDS)[number];

/** Largest record the generator writes (16-byte header + frame): size output buffers above it. */
export const MAX_RECORD = 2048;
/** Header snaplen: what libpcap and mergecap write (no generated frame comes near it). */
export const SNAPLEN = MAX_CAPLEN;

/** Relative frequency of each flow kind (per flow started, not per packet). */
const MIX: readonly [number, FlowKind][] = [
  [26, 'tls'],
  [12, 'http'],
  [8, 'tcp'],
  [30, 'dns'],
  [6, 'ping'],
  [4, 'arp'],
  [3, 'nd'],
  [3, 'frag'],
  [8, 'udp'],
];
/** Flows alive at once (their packets interleave). */
const CONCURRENT = 12;
/** Rate modulation: the packet rate swings ±RATE_SWING around the mean, RATE_WAVES times. */
const RATE_SWING = 0.6;
const RATE_WAVES = 5;

export class TrafficGenerator {
  readonly linkType: number;
  readonly nanosecond: boolean;
  /** Packets and record bytes written so far. */
  packets = 0;
  bytes = 0;
  /** Timestamp of the last record written. */
  sec = 0;
  nsec = 0;

  private readonly rng: Prng;
  /** DataView over the last output buffer (one per buffer, not per record). */
  private view: DataView | null = null;
  private viewOf: Uint8Array | null = null;
  private readonly ctx: FlowContext;
  private readonly w: FrameWriter;
  private readonly pool: PayloadPool;
  private readonly flows: Flow[] = [];
  private readonly startSec: number;
  private readonly startNs: number;
  private readonly spanNs: number;
  private readonly targetBytes: number;
  private readonly targetPackets: number;
  private readonly clients4: Endpoint[];
  private readonly clients6: Endpoint[];
  private readonly mix: readonly [number, FlowKind][];
  private readonly mixTotal: number;

  constructor(opts: GenOptions = {}) {
    const seed = opts.seed ?? 1;
    const start = opts.start ?? 1_700_000_000;
    const duration = opts.duration ?? 60;
    if (!Number.isFinite(start) || start < 0 || start >= 2 ** 32) throw new Error(`start must be Unix seconds in 0..2^32, got ${start}`);
    if (!(duration >= 0)) throw new Error(`duration must be ≥ 0 seconds, got ${duration}`);
    for (const [k, v] of [
      ['bytes', opts.bytes],
      ['packets', opts.packets],
    ] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new Error(`${k} must be a positive integer, got ${v}`);
    }
    this.rng = new Prng(seed);
    this.linkType = opts.linkType ?? LinkType.ETHERNET;
    this.nanosecond = opts.nanosecond ?? false;
    this.pool = new PayloadPool(new Prng(seed ^ 0x5bd1e995));
    this.w = new FrameWriter(this.linkType, this.pool, new Prng(seed ^ 0x27d4eb2f));
    this.startSec = Math.floor(start);
    this.startNs = Math.round((start - this.startSec) * 1e9);
    this.spanNs = Math.round(duration * 1e9);
    this.targetBytes = opts.bytes ?? Infinity;
    this.targetPackets = opts.packets ?? (opts.bytes === undefined ? 10_000 : Infinity);

    this.mix = opts.mix === undefined ? MIX : parseMix(opts.mix);
    this.mixTotal = this.mix.reduce((a, [w]) => a + w, 0);
    const domains = opts.domains ?? DOMAINS;
    if (domains.length === 0) throw new Error('domains: at least one name is needed');
    for (const d of domains) {
      if (!/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(d)) {
        throw new Error(`domains: "${d}" is not a DNS name (labels of letters, digits and inner hyphens, 1-63 characters, 253 in all)`);
      }
    }
    const clients = (opts.hosts ?? DEFAULT_CLIENTS).map(parseEndpoint);
    if (clients.length === 0) throw new Error('hosts: at least one client host is needed');
    if (this.linkType !== LinkType.ETHERNET) {
      // Only Ethernet frames carry 802.1Q tags; other link types see the traffic untagged.
      clients.forEach((c, i) => (clients[i] = { ...c, vlans: [] }));
    }
    const servers = (opts.servers ?? DEFAULT_SERVERS).map(parseEndpoint);
    const resolvers = DEFAULT_RESOLVERS.map(parseEndpoint);
    const byFamily = (list: Endpoint[], f: 4 | 6): Endpoint[] => list.filter((e) => e.family === f);
    this.clients4 = byFamily(clients, 4);
    this.clients6 = byFamily(clients, 6);
    for (const f of [4, 6] as const) {
      if (byFamily(clients, f).length > 0 && byFamily(servers, f).length === 0) {
        throw new Error(`servers: IPv${f} clients need at least one IPv${f} server`);
      }
    }
    this.ctx = {
      w: this.w,
      rng: this.rng,
      clients,
      servers: { 4: byFamily(servers, 4), 6: byFamily(servers, 6) },
      resolvers: { 4: byFamily(resolvers, 4), 6: byFamily(resolvers, 6) },
      domains,
    };
  }

  /** The 24-byte classic pcap file header (little-endian, version 2.4). */
  globalHeader(): Uint8Array {
    const out = new Uint8Array(24);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setUint32(16, SNAPLEN, true);
    dv.setUint32(20, this.linkType, true);
    return out;
  }

  /** Nanoseconds from `start` to the last record's timestamp. */
  get elapsedNs(): number {
    return (this.sec - this.startSec) * 1e9 + this.nsec - this.startNs;
  }

  /** True once the packet or byte target is reached. */
  get done(): boolean {
    return this.packets >= this.targetPackets || this.bytes >= this.targetBytes;
  }

  /**
   * Writes the next record (16-byte header + frame) at `buf[pos]`; returns its length, or 0
   * when the target is reached. `buf` must have at least {@link MAX_RECORD} bytes after `pos`.
   */
  nextRecord(buf: Uint8Array, pos: number): number {
    if (this.done) return 0;
    if (buf.length - pos < MAX_RECORD) throw new Error(`nextRecord needs ${MAX_RECORD} free bytes, ${buf.length - pos} left`);
    this.w.target(buf);
    this.w.pos = pos + 16;
    const len = this.nextFrame();
    this.stamp();
    if (this.view?.buffer !== buf.buffer || this.viewOf !== buf) {
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      this.viewOf = buf;
    }
    const dv = this.view;
    dv.setUint32(pos, this.sec, true);
    dv.setUint32(pos + 4, this.nanosecond ? this.nsec : Math.floor(this.nsec / 1000), true);
    dv.setUint32(pos + 8, len, true);
    dv.setUint32(pos + 12, len, true);
    this.packets++;
    this.bytes += 16 + len;
    return 16 + len;
  }

  /** Sets `sec`/`nsec` from progress towards the target, through the rate wave. */
  private stamp(): void {
    const p = Math.min(1, Math.max(this.packets / this.targetPackets, this.bytes / this.targetBytes));
    const wave = (RATE_SWING * Math.sin(2 * Math.PI * RATE_WAVES * p)) / (2 * Math.PI * RATE_WAVES);
    const ns = this.startNs + Math.floor(this.spanNs * (p + wave));
    const sec = this.startSec + Math.floor(ns / 1e9);
    let nsec = ns - (sec - this.startSec) * 1e9;
    if (!this.nanosecond) nsec -= nsec % 1000;
    // Never step back (rounding at the wave's edges): time is monotonic in generated files.
    if (sec > this.sec || (sec === this.sec && nsec >= this.nsec)) {
      this.sec = sec;
      this.nsec = nsec;
    }
  }

  private nextFrame(): number {
    for (;;) {
      const slot = this.rng.int(CONCURRENT);
      const flow = (this.flows[slot] ??= this.newFlow());
      const step = flow.next();
      if (!step.done) return step.value;
      this.flows[slot] = this.newFlow();
    }
  }

  private newFlow(): Flow {
    const { ctx, rng } = this;
    let r = rng.int(this.mixTotal);
    let kind: FlowKind = 'dns';
    for (const [weight, name] of this.mix) {
      if (r < weight) {
        kind = name;
        break;
      }
      r -= weight;
    }
    switch (kind) {
      case 'tls':
      case 'http':
        return tcpSession(ctx, kind);
      case 'tcp':
        return tcpSession(ctx, 'other');
      case 'ping':
        return ping(ctx);
      case 'arp':
        if (this.w.carriesArp && this.clients4.length > 0) return arpExchange(ctx, rng.pick(this.clients4));
        return dnsLookup(ctx);
      case 'nd':
        if (this.clients6.length > 0) return neighborDiscovery(ctx, rng.pick(this.clients6));
        return dnsLookup(ctx);
      case 'frag':
        return fragmentedDatagram(ctx, (len) => this.pool.offsetFor(rng, len));
      case 'udp':
        return smallUdp(ctx);
      default:
        return dnsLookup(ctx);
    }
  }
}

/** Validates a custom mix (known kinds, finite non-negative weights, some positive) in FLOW_KINDS order. */
function parseMix(mix: Readonly<Partial<Record<string, number>>>): [number, FlowKind][] {
  for (const [kind, weight] of Object.entries(mix)) {
    if (!(FLOW_KINDS as readonly string[]).includes(kind)) throw new Error(`mix: unknown flow kind "${kind}" (kinds: ${FLOW_KINDS.join(', ')})`);
    if (!(Number.isFinite(weight) && weight! >= 0)) throw new Error(`mix: the weight of ${kind} must be a finite number ≥ 0, got ${weight}`);
  }
  const out = FLOW_KINDS.filter((k) => (mix[k] ?? 0) > 0).map((k): [number, FlowKind] => [mix[k]!, k]);
  if (out.length === 0) throw new Error('mix: at least one flow kind needs a weight above 0');
  return out;
}
