/**
 * Frames cut short, against tcpdump: libpcap rejects a packet when its BPF program loads a byte past
 * the captured length — unless its optimiser removed that load because the values loaded before
 * it already decided the outcome. Our compiled filter must select exactly what tcpdump selects.
 *
 * The capture: a few complete frames (IPv4 TCP/UDP, an IPv4 fragment, IPv6 TCP, IPv6 with a
 * fragment header, ARP, LLDP, 802.1Q and QinQ-tagged IPv4), each cut at every length from 0 bytes
 * to its full length, on Ethernet, Linux SLL and raw IP. Every filter below, in the form extract
 * applies (through VLAN tags on Ethernet), is compared packet by packet with tcpdump's selection.
 * Runtime: one tcpdump per filter and link type over ~1,200 tiny frames (~6 s in all).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFilter, parseFilter, throughVlanTags } from './index.js';
import { LinkType } from '../types.js';
import { requireTool } from '../../util/testing.js';

const FILTERS = [
  'not host 10.1.1.10',
  'not host 10.9.9.9',
  'not net 10.0.0.0/8',
  'not port 53',
  'not tcp',
  'not ip',
  'not ip6',
  'not arp',
  'not vlan',
  'not host 2001:db8::1',
  'host 10.1.1.10',
  'host 10.1.1.10 or arp',
  'arp or not host 10.9.9.9',
  'host 10.9.9.9 or not tcp',
  'not (host 10.1.1.10 or arp)',
  'not (host 10.1.1.10 and udp)',
  'tcp and not host 10.1.1.10 and not host 10.1.1.11',
  'udp port 53 or udp',
  'tcp port 80 or udp',
  'port 53 or less 60',
  'not port 53 and not port 443',
  'portrange 1-1024',
  'not tcp portrange 1024-65535',
  'ip proto 17 or ip6 proto 44',
  'not proto 6',
  'vlan 20 and not host 10.1.1.10',
  'not (vlan and udp)',
  'src host 10.1.1.10 or dst port 80',
  'not src and dst net 10.1.0.0/16',
  'not net 2001:db8::/32',
  'greater 40 and not host 10.1.1.10',
  'icmp6 or not ip6',
  'not sctp and not icmp',
  'rarp or not arp',
  'not net 2001:db8::/36',
  'not (tcp port 80 and host 2001:db8::1)',
  'not udp dst port 53 or arp host 10.1.1.11',
];

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Network-layer packets: [EtherType, bytes]. */
const PACKETS: Array<[number, Buffer]> = [
  // IPv4 TCP 10.1.1.10:53 → 10.1.1.20:443, with IP options (IHL 6)
  [0x0800, hex('4600 0040 1c46 4000 4006 0000 0a01010a 0a010114 01020304 0035 01bb 00000000 00000000 5002 2000 0000 0000')],
  // IPv4 UDP 10.1.1.11:5353 → 10.2.0.53:53
  [0x0800, hex('4500 0030 0001 0000 4011 0000 0a01010b 0a020035 14e9 0035 001c 0000 0000 0000 0000 0000 0000 0000')],
  // IPv4 later fragment (offset 8) of UDP
  [0x0800, hex('4500 0024 0002 0001 4011 0000 0a01010a 0a010114 0035 0035 0010 0000 00000000')],
  // IPv6 TCP 2001:db8::1:80 → 2001:db8::2:1234
  [0x86dd, hex('6000 0000 0014 0640 20010db8000000000000000000000001 20010db8000000000000000000000002 0050 04d2 00000000 00000000 5002 2000 0000 0000')],
  // IPv6 with a fragment header, then UDP port 53
  [0x86dd, hex('6000 0000 0010 2c40 20010db8000000000000000000000002 20010db8000000000000000000000001 1100 0000 00000001 0035 0035 0008 0000')],
  // ARP request 10.1.1.10 → 10.1.1.11
  [0x0806, hex('0001 0800 0604 0001 001122334455 0a01010a 000000000000 0a01010b')],
  // LLDP (neither IP nor ARP)
  [0x88cc, hex('0207 0400 1122 3344 5504 0305 6574 6830 0602 0078 0000')],
];

const ETHER_HEADER = hex('ffffffffffff 001122334455');

/** The full frames of one link type (Ethernet adds 802.1Q- and QinQ-tagged IPv4 copies). */
function frames(linkType: number): Buffer[] {
  const out: Buffer[] = [];
  for (const [type, body] of PACKETS) {
    const t = Buffer.from([type >> 8, type & 255]);
    if (linkType === LinkType.ETHERNET) {
      out.push(Buffer.concat([ETHER_HEADER, t, body]));
      if (type === 0x0800) {
        out.push(Buffer.concat([ETHER_HEADER, hex('8100 0014'), t, body]));
        out.push(Buffer.concat([ETHER_HEADER, hex('88a8 0064 8100 0014'), t, body]));
      }
    } else if (linkType === LinkType.LINUX_SLL) {
      out.push(Buffer.concat([hex('0000 0001 0006 001122334455 0000'), t, body]));
    } else if (type === 0x0800 || type === 0x86dd) {
      out.push(body); // raw IP
    }
  }
  return out;
}

/** A classic µs pcap of every frame cut at every length 0..full; record i has timestamp second i. */
function writeTruncations(path: string, linkType: number): number {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(linkType, 20);
  const parts: Buffer[] = [header];
  let i = 0;
  for (const frame of frames(linkType)) {
    for (let len = 0; len <= frame.length; len++, i++) {
      const record = Buffer.alloc(16);
      record.writeUInt32LE(i, 0);
      record.writeUInt32LE(len, 8);
      record.writeUInt32LE(frame.length, 12);
      parts.push(record, frame.subarray(0, len));
    }
  }
  writeFileSync(path, Buffer.concat(parts));
  return i;
}

/** Record numbers (timestamp seconds) of a classic pcap tcpdump wrote. */
function recordsOf(path: string): number[] {
  const b = readFileSync(path);
  const out: number[] = [];
  for (let at = 24; at + 16 <= b.length; at += 16 + b.readUInt32LE(at + 8)) out.push(b.readUInt32LE(at));
  return out;
}

/** Record numbers (and their captured lengths) our compiled filter selects. */
function ours(path: string, linkType: number, filter: string): number[] {
  const predicate = compileFilter(throughVlanTags(parseFilter(filter))).forLinkType(linkType);
  const b = readFileSync(path);
  const out: number[] = [];
  for (let at = 24; at + 16 <= b.length; at += 16 + b.readUInt32LE(at + 8)) {
    const caplen = b.readUInt32LE(at + 8);
    const data = new Uint8Array(b.buffer, b.byteOffset + at + 16, caplen);
    if (predicate(data, caplen, b.readUInt32LE(at + 12))) out.push(b.readUInt32LE(at));
  }
  return out;
}

test('on frames cut at every length, the compiled filter selects exactly what tcpdump selects', (t) => {
  if (!requireTool(t, 'tcpdump')) return;
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-truncated-'));
  try {
    const failures: string[] = [];
    let rejectedByLoads = 0;
    for (const [name, linkType] of [
      ['ethernet', LinkType.ETHERNET],
      ['sll', LinkType.LINUX_SLL],
      ['raw', LinkType.RAW],
    ] as const) {
      const input = join(dir, `${name}.pcap`);
      const total = writeTruncations(input, linkType);
      for (const filter of FILTERS) {
        if (linkType !== LinkType.ETHERNET && filter.includes('vlan')) continue; // libpcap: no VLAN support there
        const expr = linkType === LinkType.ETHERNET ? `(${filter}) or (vlan and ((${filter}) or (vlan and (${filter}))))` : filter;
        const output = join(dir, 'ref.pcap');
        execFileSync('tcpdump', ['-r', input, '-w', output, expr], { stdio: ['ignore', 'ignore', 'ignore'] });
        const theirs = recordsOf(output);
        const mine = ours(input, linkType, filter);
        if (filter.startsWith('not ')) rejectedByLoads += total - theirs.length - ours(input, linkType, filter.slice(4)).length;
        const extra = mine.filter((r) => !theirs.includes(r));
        const missing = theirs.filter((r) => !mine.includes(r));
        if (extra.length || missing.length) {
          failures.push(`${name} '${filter}': ours also selects records ${extra.join(',') || '-'}; ours misses ${missing.join(',') || '-'}`);
        }
      }
    }
    assert.deepEqual(failures, []);
    // The capture must exercise the rule: packets that neither F nor `not F` selects (a load failed).
    assert.ok(rejectedByLoads > 100, `only ${rejectedByLoads} packets were rejected for a failed load`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
