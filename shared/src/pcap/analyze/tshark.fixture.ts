/**
 * Test support: runs tshark and reads its `-z io,phs` and `-z conv,ip|ipv6` statistics into
 * the shape of our report, so tests compare like with like. Not used at run time.
 *
 * tshark runs with IP reassembly off (`-o ip.defragment:FALSE -o ipv6.defragment:FALSE`):
 * then each frame is attributed to the headers it carries (a first fragment to its UDP/TCP
 * header, later fragments to IP only), which is what a per-packet analyser counts. With
 * reassembly on, tshark moves the transport protocol to the frame that completes a datagram.
 */
import { spawnSync } from 'node:child_process';
import type { Counted, ProtocolName } from './report.js';

export const TSHARK_ARGS = ['-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE'];

/** tshark's names for the link layers our decoder reads (Ethernet, Linux SLL/SLL2, raw IP, loopback, PPP, Cisco HDLC). */
const LINK_LAYERS = new Set(['eth', 'sll', 'raw', 'null', 'loop', 'ppp', 'chdlc']);

export interface PhsNode {
  name: string;
  frames: number;
  bytes: number;
  children: PhsNode[];
}

/**
 * Runs tshark on `file` with `stats` (e.g. ['-z', 'io,phs']); returns stdout, throwing on
 * failure (a damaged file whose packets before the damage were read is not a failure).
 */
export function runTshark(tshark: string, file: string, stats: string[]): string {
  const r = spawnSync(tshark, ['-r', file, ...TSHARK_ARGS, '-q', ...stats], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw new Error(`tshark on ${file} failed to start`, { cause: r.error });
  // Exit 2 on a damaged file still prints the statistics of the packets before the damage.
  const damagedButRead = r.status === 2 && r.stdout.includes('===');
  if (r.status !== 0 && !damagedButRead) throw new Error(`tshark on ${file} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Parses the `-z io,phs` block into its tree (roots are the link layers, or pkt_comment). */
export function parsePhs(text: string): PhsNode[] {
  const roots: PhsNode[] = [];
  const stack: { depth: number; node: PhsNode }[] = [];
  for (const line of text.split('\n')) {
    const m = /^( *)(\S+)\s+frames:(\d+) bytes:(\d+)\s*$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 2;
    const node: PhsNode = { name: m[2]!, frames: Number(m[3]), bytes: Number(m[4]), children: [] };
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= depth) stack.pop();
    if (stack.length === 0) roots.push(node);
    else stack[stack.length - 1]!.node.children.push(node);
    stack.push({ depth, node });
  }
  return roots;
}

/**
 * Our protocol totals read off tshark's hierarchy. Each frame has one path from its root, so
 * a node's count is the frames whose path passes through it. We follow only the outer header
 * chain our analyser decodes — link layer, VLAN tags (802.1Q `vlan`, 802.1ad `ieee8021ad`;
 * `ethertype` and `pkt_comment` are tshark pseudo-nodes), then ip/ipv6/arp, then
 * tcp/udp/icmp/icmpv6 directly under it — and stop at anything else, so protocols inside
 * tunnels (GRE, VXLAN, IP-in-IP, MPLS, PPP…) are not counted, exactly as we do not.
 * `vlan` counts a frame once however many tags it has; `other` is every frame whose outer
 * network layer is none of ip/ipv6/arp.
 */
export function phsTotals(roots: PhsNode[]): Record<ProtocolName, Counted> {
  return walkPhs(roots).totals;
}

/**
 * True when tshark found IP headers we do not decode (inside tunnels, MPLS, PPP, PKTAP,
 * NFLOG, ICMP errors…): tshark's `-z conv,ip` then also counts those inner conversations.
 */
export function phsHasInnerIp(roots: PhsNode[]): boolean {
  const outer = walkPhs(roots).outerIp;
  const any = (n: PhsNode): boolean => ((n.name === 'ip' || n.name === 'ipv6') && !outer.has(n)) || n.children.some(any);
  return roots.some(any);
}

function walkPhs(roots: PhsNode[]): { totals: Record<ProtocolName, Counted>; outerIp: Set<PhsNode> } {
  const outerIp = new Set<PhsNode>();
  const out = Object.fromEntries(
    ['ethernet', 'vlan', 'ipv4', 'ipv6', 'arp', 'tcp', 'udp', 'icmp', 'icmpv6', 'other'].map((n) => [n, { packets: 0, bytes: 0 }]),
  ) as Record<ProtocolName, Counted>;
  const add = (name: ProtocolName, n: PhsNode): void => {
    out[name].packets += n.frames;
    out[name].bytes += n.bytes;
  };
  let total: Counted = { packets: 0, bytes: 0 };
  const l4: Record<string, ProtocolName> = { tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmpv6: 'icmpv6' };
  const l3: Record<string, ProtocolName> = { ip: 'ipv4', ipv6: 'ipv6', arp: 'arp' };
  const network = (n: PhsNode, inVlan: boolean): void => {
    if (n.name === 'ethertype') {
      n.children.forEach((c) => network(c, inVlan));
    } else if (n.name === 'vlan' || n.name === 'ieee8021ad') {
      if (!inVlan) add('vlan', n);
      n.children.forEach((c) => network(c, true));
    } else if (l3[n.name]) {
      add(l3[n.name]!, n);
      outerIp.add(n);
      for (const c of n.children) if (l4[c.name] && n.name !== 'arp') add(l4[c.name]!, c);
    }
  };
  const link = (n: PhsNode): void => {
    if (n.name === 'pkt_comment') {
      n.children.forEach(link);
      return;
    }
    total = { packets: total.packets + n.frames, bytes: total.bytes + n.bytes };
    if (n.name === 'eth') add('ethernet', n);
    if (l3[n.name])
      network(n, false); // LINKTYPE_IPV4/IPV6: no link-layer node
    else if (LINK_LAYERS.has(n.name)) n.children.forEach((c) => network(c, false));
    // Other link layers (nflog, pktap, ppp, wlan…) we do not decode: their frames are `other`.
  };
  roots.forEach(link);
  const known = out.ipv4.packets + out.ipv6.packets + out.arp.packets;
  const knownBytes = out.ipv4.bytes + out.ipv6.bytes + out.arp.bytes;
  out.other = { packets: total.packets - known, bytes: total.bytes - knownBytes };
  return { totals: out, outerIp };
}

export interface TsharkConversation {
  a: string;
  b: string;
  /** Frames of the whole conversation, both directions. */
  frames: number;
  /** tshark's rounded byte figures as printed ("812 bytes", "2803 kB"). */
  bytesText: string;
  /** The two directions' frame counts, in tshark's column order. */
  framesLeft: number;
  framesRight: number;
  bytesLeftText: string;
  bytesRightText: string;
}

/** Parses a `-z conv,ip` or `-z conv,ipv6` table. */
export function parseConversations(text: string): TsharkConversation[] {
  const rows: TsharkConversation[] = [];
  const size = String.raw`(\d+ (?:bytes|[kMGT]B))`;
  const re = new RegExp(String.raw`^(\S+)\s+<->\s+(\S+)\s+(\d+) ${size}\s+(\d+) ${size}\s+(\d+) ${size}\s`);
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    rows.push({
      a: m[1]!,
      b: m[2]!,
      framesLeft: Number(m[3]),
      bytesLeftText: m[4]!,
      framesRight: Number(m[5]),
      bytesRightText: m[6]!,
      frames: Number(m[7]),
      bytesText: m[8]!,
    });
  }
  return rows;
}

/**
 * A byte count the way tshark 4.0 prints it in conversation tables (wsutil format_size, SI
 * units, integer division): below 10 000 "N bytes", then "N kB", "N MB", "N GB", "N TB".
 */
export function tsharkSize(bytes: number): string {
  const units = ['kB', 'MB', 'GB', 'TB'];
  for (let i = units.length; i >= 1; i--) {
    const scaled = Math.floor(bytes / 1000 ** i);
    if (scaled >= 10) return `${scaled} ${units[i - 1]}`;
  }
  return `${bytes} bytes`;
}

/**
 * Exact per-address-pair frame counts and bytes from tshark's per-frame fields (`frame.len`,
 * `ip.src/dst`, `ipv6.src/dst`), keyed "A B" with A < B. Only for captures without tunnels
 * (one IP header per frame); complements the rounded byte figures of `-z conv`.
 */
export function tsharkPairs(tshark: string, file: string): Map<string, { frames: number; bytes: number }> {
  const r = spawnSync(
    tshark,
    ['-r', file, ...TSHARK_ARGS, '-T', 'fields', '-e', 'frame.len', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst'],
    { encoding: 'utf8', maxBuffer: 1 << 30 },
  );
  if (r.status !== 0) throw new Error(`tshark -T fields on ${file} exited ${r.status}: ${r.stderr.trim()}`);
  const pairs = new Map<string, { frames: number; bytes: number }>();
  for (const line of r.stdout.split('\n')) {
    const [len, s4, d4, s6, d6] = line.split('\t');
    const src = s4 || s6;
    const dst = d4 || d6;
    if (!len || !src || !dst) continue;
    const key = pairKey(src, dst);
    const row = pairs.get(key) ?? { frames: 0, bytes: 0 };
    row.frames++;
    row.bytes += Number(len);
    pairs.set(key, row);
  }
  return pairs;
}

/** Order-independent key of an address pair. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}
