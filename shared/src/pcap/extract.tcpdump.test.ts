/**
 * extract against the reference: for every capture in the shared corpus (pcapsDir()) that tcpdump reads, and
 * for generated captures (Ethernet with 802.1Q/QinQ, SLL, SLL2, raw IP, ns timestamps), and for
 * every filter in FILTERS, our extract selects exactly the packets of
 *   tcpdump --time-stamp-precision=nano -r FILE -w OUT '(F) or (vlan and ((F) or (vlan and (F))))'
 * (plain F on link types where libpcap has no `vlan`), compared packet by packet (timestamp to the
 * nanosecond, captured bytes, original length), without the index and with a fresh sidecar index
 * built at a small block size so that blocks really are skipped, with posting lists so that host
 * and net filters read single records.
 *
 * Damaged captures (tcpdump exits 1 after printing some packets) are compared on the packets
 * before the damage: tcpdump's selection must be exactly the start of ours (our reader reads on
 * past recoverable damage such as a block with an unknown interface id; tcpdump stops there). Left out, and listed in the test output: files
 * tcpdump cannot open at all (unknown format, pcapng with mixed link types, …), link types our
 * filter does not implement (802.11 radiotap, NFLOG, PKTAP, VSOCK, …), and the one file whose
 * microsecond fractions are invalid (≥ 10^6: our reader carries them into the seconds, libpcap
 * does not — a reader difference, not a filter one).
 *
 * Where libpcap proves at compile time that a filter selects nothing on a link type ("expression
 * rejects all packets", "no VLAN support"), the reference is the empty selection.
 * libpcap cuts records longer than the file's snaplen to the snaplen when reading; our reader
 * keeps every captured byte, so such records are compared on their first snaplen bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { extract } from './extract.js';
import { openCapture } from './reader.js';
import { buildIndex } from './sidecar/index.js';
import { writeCapture } from './gen/output.js';
import { LinkType } from './types.js';
import { DECODED_LINK_TYPES } from './decode.js';
import { inCi, pcapsDir, requireTool } from '../util/testing.js';

const PCAPS = pcapsDir();

/** The filter table: every primitive, qualifier and operator the language supports. */
export const FILTERS = [
  'tcp',
  'udp',
  'icmp',
  'icmp6',
  'ip',
  'ip6',
  'arp',
  'rarp',
  'sctp',
  'port 53',
  'tcp port 80',
  'udp port 53',
  'port 443 or port 80',
  'src port 53',
  'dst port 53',
  'port domain',
  'port http',
  'tcp port 80 or 443',
  'portrange 1-1024',
  'tcp portrange 1024-65535',
  'udp dst portrange 100-200',
  'host 10.1.1.10',
  'src host 10.1.1.10',
  'dst host 93.184.216.34',
  'host 10.1.1.10 or 10.1.2.20',
  'host 172.16.5.20 and port 443',
  'ip host 10.0.0.1',
  'arp host 10.1.1.10',
  'host 131.151.1.146',
  'net 10.0.0.0/8',
  'net 192.168.0.0 mask 255.255.0.0',
  'src net 172.16.0.0/12',
  'dst net 10.1.0.0/16',
  'net 131.151',
  'src and dst net 10.0.0.0/8',
  'host 2001:db8:1::10',
  'net 2001:db8::/32',
  'dst net 2620:1ec:c11::/48',
  'ip6 and udp',
  'vlan',
  'vlan 20',
  'vlan 100',
  'vlan and udp',
  'not tcp',
  'not ip and not ip6',
  'tcp and not port 22',
  'tcp or udp and port 53',
  '!tcp && (udp || icmp)',
  '(udp and port 53) or (tcp and port 443)',
  'ip proto 17',
  'ip6 proto 58',
  'proto 6',
  'ip6 proto 44',
  'less 100',
  'greater 1000',
  'less 64 or greater 1400',
  // Combinations the index answers from posting lists (intersect, union, complement, fallback).
  'host 10.1.1.10 and host 93.184.216.34',
  'host 10.1.1.11 or net 10.20.0.0/16 or host 2001:db8:1::11',
  // (On a frame cut before the addresses libpcap's `not host` rejects the packet — a load past its end
  // fails the whole BPF program — and so does ours: filter/truncated.tcpdump.test.ts.)
  'not host 10.1.1.10 and not host 10.1.1.11',
  'host 10.1.0.53 and (udp port 53 or tcp)',
];

interface Packet {
  sec: number;
  nsec: number;
  origLen: number;
  hex: string;
}

/** Every packet of a capture, bytes cut to `snaplen` (see above). */
function readAll(path: string, snaplen = Infinity): Packet[] {
  const r = openCapture(path);
  const out: Packet[] = [];
  try {
    for (let p = r.next(); p; p = r.next()) {
      out.push({ sec: p.sec, nsec: p.nsec, origLen: p.origLen, hex: Buffer.from(p.data.subarray(0, snaplen)).toString('hex') });
    }
  } finally {
    r.close();
  }
  return out;
}

/** tcpdump's selection; null when tcpdump cannot read the file at all. */
async function reference(file: string, filter: string, out: string, linkType: number): Promise<Packet[] | null> {
  const expr = linkType === LinkType.ETHERNET ? `(${filter}) or (vlan and ((${filter}) or (vlan and (${filter}))))` : filter;
  const child = spawn('tcpdump', ['--time-stamp-precision=nano', '-r', file, '-w', out, expr], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    if (!existsSync(out) || readFileSync(out).length < 24) {
      if (status === 0) throw new Error(`tcpdump wrote nothing for ${file} '${expr}': ${stderr}`);
      if (/expression rejects all packets|no VLAN support/.test(stderr)) return [];
      return null;
    }
    return readAll(out);
  } finally {
    rmSync(out, { force: true });
  }
}

/** Runs `jobs` with at most `limit` in flight; results in job order. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

function describe(a: Packet | undefined): string {
  return a ? `${a.sec}.${String(a.nsec).padStart(9, '0')} len ${a.origLen} ${a.hex.slice(0, 64)}…` : 'nothing';
}

/** First difference between two packet lists, or null when equal. */
function firstDifference(ours: Packet[], theirs: Packet[]): string | null {
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    const a = ours[i];
    const b = theirs[i];
    if (!a || !b || a.sec !== b.sec || a.nsec !== b.nsec || a.origLen !== b.origLen || a.hex !== b.hex) {
      return `${ours.length} vs tcpdump ${theirs.length} packets; #${i}: ours ${describe(a)}, tcpdump ${describe(b)}`;
    }
  }
  return null;
}

interface Case {
  name: string;
  path: string;
  linkType: number;
  /** tcpdump stops at damage (exit 1); our reader may read on past recoverable damage. */
  damaged?: boolean;
}

/** Captures of the shared corpus that tcpdump opens (MANIFEST column tcpdump_rc/lines). */
function corpusCases(): { cases: Case[]; excluded: string[] } {
  const lines = readFileSync(join(PCAPS, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const header = lines[0]!.split('\t');
  const col = (name: string): number => header.indexOf(name);
  const cases: Case[] = [];
  const excluded: string[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split('\t');
    const path = f[col('path')]!;
    const [rc, printed] = (f[col('tcpdump_rc/lines')] ?? '1/0').split('/').map(Number);
    const linkTypes = (f[col('linktypes')] ?? '')
      .split(/[ ,]+/)
      .filter(Boolean)
      .map((s) => Number(s.split(':')[0]));
    if ((rc !== 0 && !printed) || linkTypes.length !== 1) {
      excluded.push(`${path} (tcpdump: ${f[col('tcpdump_stderr')] || 'mixed link types'})`);
      continue;
    }
    if (!DECODED_LINK_TYPES.has(linkTypes[0]!)) {
      excluded.push(`${path} (link type ${linkTypes[0]} not implemented by our filter)`);
      continue;
    }
    if (path.endsWith('timestamp_invalid_micro.pcap')) {
      excluded.push(`${path} (invalid µs fractions: reader difference)`);
      continue;
    }
    cases.push({ name: path, path: join(PCAPS, path), linkType: linkTypes[0]!, damaged: rc !== 0 });
  }
  return { cases, excluded };
}

/** Generated captures: the generator's default host mix has untagged, 802.1Q and QinQ hosts. */
function generatedCases(dir: string): Case[] {
  const specs: Array<[string, number, boolean]> = [
    ['gen-ether.pcap', LinkType.ETHERNET, false],
    ['gen-ether-ns.pcap', LinkType.ETHERNET, true],
    ['gen-sll.pcap', LinkType.LINUX_SLL, false],
    ['gen-sll2.pcap', LinkType.LINUX_SLL2, false],
    ['gen-raw.pcap', LinkType.RAW, false],
  ];
  return specs.map(([name, linkType, nanosecond], i) => {
    const path = join(dir, name);
    writeCapture(path, { seed: 11 + i, packets: 4000, duration: 120, linkType, nanosecond });
    return { name: `generated ${name}`, path, linkType };
  });
}

test('extract selects exactly what tcpdump selects, with and without the index', async (t) => {
  if (!requireTool(t, 'tcpdump')) return;
  if (!existsSync(PCAPS)) {
    if (inCi()) assert.fail(`${PCAPS} (the shared capture corpus) is missing`);
    t.skip(`${PCAPS} is missing`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-extract-tcpdump-'));
  try {
    const { cases: all, excluded } = corpusCases();
    all.push(...generatedCases(dir));
    // PCAPMESH_TCPDUMP_ONLY=regex narrows the run while debugging.
    const only = process.env.PCAPMESH_TCPDUMP_ONLY;
    const cases = only ? all.filter((c) => new RegExp(only).test(c.name)) : all;
    t.diagnostic(`${cases.length} captures × ${FILTERS.length} filters; left out: ${excluded.join('; ')}`);
    assert.ok(FILTERS.length >= 40);
    if (!only) assert.ok(cases.length >= 60, `only ${cases.length} captures`);
    const failures: string[] = [];
    let compared = 0;
    let blocksSkipped = 0;
    for (const c of cases) {
      // A private copy, so the sidecar index can live beside it.
      const copy = join(dir, `${compared}-${basename(c.path)}`);
      copyFileSync(c.path, copy);
      // Small blocks, so that blocks really are skipped; posting lists kept for all but the densest
      // addresses of a block (half its bytes), so extract reads single records by the lists.
      buildIndex(copy, { blockBytes: 4096, postingBudget: 0.5 });
      const reader = openCapture(copy);
      const snaplen = reader.snaplen || Infinity;
      reader.close();
      const references = await pool(
        FILTERS.map((filter, i) => () => reference(copy, filter, join(dir, `ref-${i}.pcap`), c.linkType)),
        4,
      );
      for (const [i, filter] of FILTERS.entries()) {
        const theirs = references[i]!;
        if (theirs === null) {
          failures.push(`${c.name}: tcpdump could not read it with '${filter}'`);
          continue;
        }
        for (const useIndex of [false, true]) {
          const out = join(dir, 'ours.pcap');
          let stats;
          try {
            stats = await extract({ inputs: [copy], output: out, filter, useIndex, workers: 0 });
          } catch (error) {
            failures.push(`${c.name} '${filter}'${useIndex ? ' (index)' : ''}: extract failed: ${(error as Error).message}`);
            continue;
          }
          blocksSkipped += stats.blocksSkipped;
          const ours = stats.packets > 0 ? readAll(out, snaplen) : [];
          // Damaged file: tcpdump's packets are those before the damage; ours must begin with exactly them
          // (our reader skips a recoverable bad block, e.g. an unknown interface id, and reads on).
          const diff = firstDifference(c.damaged ? ours.slice(0, theirs.length) : ours, theirs);
          if (diff) failures.push(`${c.name} '${filter}'${useIndex ? ' (index)' : ''}: ${diff}`);
          compared++;
        }
      }
    }
    t.diagnostic(`${compared} comparisons, ${blocksSkipped} index blocks skipped`);
    if (!only) assert.ok(blocksSkipped > 0, 'the index never skipped a block: the indexed runs proved nothing');
    assert.deepEqual(failures, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a multi-file extract in worker threads equals tcpdump over the files, merged by time', async (t) => {
  if (!requireTool(t, 'tcpdump')) return;
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-extract-multi-'));
  try {
    const inputs = join(dir, 'in');
    const { writeRollingCaptures } = await import('./gen/output.js');
    writeRollingCaptures(inputs, { seed: 5, packets: 20000, duration: 600, start: 1_700_000_000 }, 60);
    const filter = 'host 10.1.1.10 or udp port 53';
    const from = { sec: 1_700_000_100, nsec: 500_000_000 };
    const to = { sec: 1_700_000_400, nsec: 0 };
    const out = join(dir, 'ours.pcap');
    const stats = await extract({ inputs: [inputs], output: out, filter, from, to, workers: 2, useIndex: false });
    // Reference: tcpdump over each file, concatenated in name (= time) order, then cut to [from, to).
    const { readdirSync } = await import('node:fs');
    const theirs: Packet[] = [];
    for (const name of readdirSync(inputs).sort()) {
      theirs.push(...((await reference(join(inputs, name), filter, join(dir, 'ref.pcap'), LinkType.ETHERNET)) ?? []));
    }
    const inWindow = theirs.filter(
      (p) => (p.sec > from.sec || (p.sec === from.sec && p.nsec >= from.nsec)) && (p.sec < to.sec || (p.sec === to.sec && p.nsec < to.nsec)),
    );
    assert.ok(inWindow.length > 100);
    assert.equal(firstDifference(readAll(out), inWindow), null);
    assert.ok(stats.filesSkippedByTime >= 4, `files outside the window were read: ${JSON.stringify(stats)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
