/**
 * `analyze` against tshark 4.0: per-protocol packet/byte totals must equal `-z io,phs` and IP
 * conversations must equal `-z conv,ip` and `-z conv,ipv6`, for every capture of the shared
 * corpus that tshark reads and for generated captures (all link types the generator writes).
 *
 * How the two are made comparable (see tshark.fixture.ts and report.ts):
 * - tshark runs with IP reassembly off, so each frame counts for the headers it carries.
 * - phs is read along our outer header chain only (link, VLAN, IP/ARP, transport).
 * - Where tshark decodes IP inside something we do not (GRE, VXLAN, Geneve, MPLS, PPPoE,
 *   IP-in-IP, PKTAP…), `-z conv` also lists inner conversations: in such files every pair of
 *   ours must be in tshark's table with at least our frames in each direction, and extra
 *   tshark pairs are allowed. Everywhere else the tables must be equal.
 * - tshark's `-z conv,ipv6` skips non-first IPv6 fragments (its tap runs after the Fragment
 *   header); we count them, so they are subtracted from our figures before comparing.
 * - tshark prints conversation bytes rounded ("2803 kB"): ours are printed the same way and
 *   compared as text; for generated captures the exact bytes per pair are also compared with
 *   tshark's per-frame fields.
 * - The few frames where tshark and we read the same bytes differently are listed in KNOWN with
 *   the reason; only the named rows/pairs are exempt, and each entry must still differ.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePacket, formatIpv4, formatIpv6, newDecodedPacket } from '../decode.js';
import { writeCapture } from '../gen/output.js';
import { isCaptureFormatError, openCapture } from '../reader.js';
import { L3, LinkType } from '../types.js';
import { pcapsDir, requireTool } from '../../util/testing.js';
import { analyzeInto } from './analyze-files.js';
import { Analyzer } from './analyzer.js';
import type { IpConversationRow, ProtocolName } from './report.js';
import { pairKey, parseConversations, parsePhs, phsHasInnerIp, phsTotals, runTshark, tsharkPairs, tsharkSize } from './tshark.fixture.js';

interface Known {
  reason: string;
  protocols?: ProtocolName[];
  pairs?: string[];
}

const NULL_ETHERTYPE: Known = {
  reason: 'a frame has an EtherType (0x0800) in its 4-byte NULL header: tshark guesses IPv4, tcpdump and we see an unknown address family',
  protocols: ['ipv4', 'udp', 'other'],
  pairs: ['10.0.0.1 10.0.0.138'],
};

/** Frames tshark and we read differently, on purpose or by tshark heuristics. */
const KNOWN: Record<string, Known> = {
  'pcapplusplus/Pcap++Test/null_loopback.pcap': NULL_ETHERTYPE,
  'derived/formats/multi-linktype.pcapng': NULL_ETHERTYPE,
  'derived/formats/multi-linktype-appended.pcapng': NULL_ETHERTYPE,
  'tcpdump/bigtcp-ipv6.pcap': {
    reason: 'IPv6 payload length 0 without a jumbo option (Linux BIG TCP/GSO): the decoder reads the TCP header, tshark does not',
    protocols: ['tcp'],
  },
  'tcpdump/ip6_frag_asan.pcap': {
    reason: 'an IPv6 Fragment header cut short by snaplen: tshark aborts the frame before its conversation tap',
    pairs: ['2243:80:1400:100:19:ffff:ffff:fffb 452:22:19:0:41a:e4ff:10ff:484d'],
  },
  'tcpdump/of13_ericsson.pcapng': {
    reason: 'OpenFlow messages carry an IPv4 packet: tshark counts its inner conversation (its phs shows it as data)',
    pairs: ['192.168.1.1 192.168.1.2'],
  },
  'tcpdump/nflog.pcap': {
    reason: 'NFLOG (link type 239) is not decoded: its frames are "other" for us, IPv4/UDP for tshark',
    protocols: ['ipv4', 'udp', 'other'],
    pairs: ['10.0.0.20 74.82.42.42'],
  },
};

/** Damaged files where tshark and our reader stop at different points: not comparable. */
/**
 * Captures where tshark and we differ as a whole, by design: instead of the comparison, the
 * difference itself is checked, so it cannot change unnoticed.
 */
const DIFFERENT_BY_DESIGN: Record<string, { reason: string; check: (tshark: string, path: string) => void }> = {
  'derived/broken/pcapng-bad-interface-id.pcapng': {
    reason: 'a packet names interface 99, which no IDB declared: tshark stops there; our reader reports it and reads on',
    check: (tshark, path) => {
      const theirs = parsePhs(runTshark(tshark, path, ['-z', 'io,phs'])).reduce((n, root) => n + root.frames, 0);
      const ours = analyzeInto(new Analyzer(), [path]).report.capture;
      assert.equal(theirs, 17, 'tshark stops at the undeclared interface');
      assert.equal(ours.packets, 35, 'we read on past it (every packet of the file)');
      assert.match(ours.problems.map((p) => p.reason).join('\n'), /interface 99/);
    },
  },
};

/** Corpus files tshark reads (MANIFEST.tsv column tshark_rc/lines shows packets). */
function corpusFiles(dir: string): string[] {
  const rows = readFileSync(join(dir, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1).filter(Boolean);
  return rows
    .map((r) => r.split('\t'))
    .filter((c) => /^[02]\/[1-9]/.test(c[16] ?? ''))
    .map((c) => c[0]!);
}

/** Frames and bytes of non-first IPv6 fragments per address pair (tshark's conv,ipv6 omits them). */
function ipv6LaterFragments(path: string): Map<string, { frames: number; bytes: number }> {
  const out = new Map<string, { frames: number; bytes: number }>();
  const reader = openCapture(path);
  const pkt = newDecodedPacket();
  try {
    for (let v = reader.next(); v; v = reader.next()) {
      decodePacket(v, pkt);
      if (pkt.l3 !== L3.IPV6 || !pkt.laterFragment || pkt.src6Offset < 0 || pkt.dst6Offset < 0) continue;
      const key = pairKey(formatIpv6(v.data, pkt.src6Offset), formatIpv6(v.data, pkt.dst6Offset));
      const row = out.get(key) ?? { frames: 0, bytes: 0 };
      row.frames++;
      row.bytes += v.origLen;
      out.set(key, row);
    }
  } finally {
    reader.close();
  }
  return out;
}

interface Outcome {
  /** Differences not covered by KNOWN. */
  problems: string[];
  /** Differences KNOWN expected and found. */
  knownHit: Set<string>;
  comparedRows: number;
  comparedPairs: number;
}

/** Compares our analysis of `path` with tshark's; returns every difference found. */
function compare(tshark: string, path: string, known: Known | undefined, exactBytes: boolean): Outcome {
  const { analyzer, report } = analyzeInto(new Analyzer(), [path]);
  const out = runTshark(tshark, path, ['-z', 'io,phs', '-z', 'conv,ip', '-z', 'conv,ipv6']);
  const roots = parsePhs(out);
  const ref = phsTotals(roots);
  const o: Outcome = { problems: [], knownHit: new Set(), comparedRows: 0, comparedPairs: 0 };
  const differ = (what: string, message: string): void => {
    if (known?.protocols?.includes(what as ProtocolName) || known?.pairs?.includes(what)) o.knownHit.add(what);
    else o.problems.push(message);
  };

  for (const row of report.protocols) {
    const r = ref[row.protocol];
    o.comparedRows++;
    if (r.packets !== row.packets || r.bytes !== row.bytes) {
      differ(row.protocol, `${row.protocol}: ours ${row.packets} packets/${row.bytes} bytes, tshark ${r.packets}/${r.bytes}`);
    }
  }

  const laterFragments = ipv6LaterFragments(path);
  const ours = new Map<string, IpConversationRow>();
  for (const c of analyzer.allIpConversations()) {
    const key = pairKey(c.a, c.b);
    const f = c.a.includes(':') ? laterFragments.get(key) : undefined;
    if (f) {
      // Later fragments are all in one direction in every capture we have; subtract from the
      // direction that holds them (fail loudly if that assumption breaks).
      const dir = c.aToB.packets >= f.frames ? c.aToB : c.bToA;
      dir.packets -= f.frames;
      dir.bytes -= f.bytes;
      c.packets -= f.frames;
      c.bytes -= f.bytes;
    }
    if (c.packets > 0) ours.set(key, c);
  }
  const theirs = new Map(parseConversations(out).map((t) => [pairKey(t.a, t.b), t]));
  const inner = phsHasInnerIp(roots);
  for (const [key, t] of theirs) {
    const c = ours.get(key);
    if (!c) {
      if (!inner) differ(key, `pair ${key}: tshark ${t.frames} frames, ours none`);
      continue;
    }
    o.comparedPairs++;
    const left = t.a === c.a ? c.bToA : c.aToB; // tshark's "<-" column: frames from B to A
    const right = t.a === c.a ? c.aToB : c.bToA;
    const equal =
      left.packets === t.framesLeft &&
      right.packets === t.framesRight &&
      tsharkSize(left.bytes) === t.bytesLeftText &&
      tsharkSize(right.bytes) === t.bytesRightText &&
      c.packets === t.frames &&
      tsharkSize(c.bytes) === t.bytesText;
    const covered = left.packets <= t.framesLeft && right.packets <= t.framesRight;
    if (!(equal || (inner && covered))) {
      differ(
        key,
        `pair ${key}: tshark ←${t.framesLeft}/${t.bytesLeftText} →${t.framesRight}/${t.bytesRightText}, ` +
          `ours ←${left.packets}/${left.bytes} bytes →${right.packets}/${right.bytes} bytes`,
      );
    }
  }
  for (const [key, c] of ours) if (!theirs.has(key)) differ(key, `pair ${key}: ours ${c.packets} frames, tshark none`);

  if (exactBytes) {
    const fields = tsharkPairs(tshark, path);
    const all = new Map(analyzer.allIpConversations().map((c) => [pairKey(c.a, c.b), c]));
    assert.equal(all.size, fields.size, `${path}: pairs from tshark fields`);
    for (const [key, f] of fields) {
      const c = all.get(key);
      assert.deepEqual(c && { frames: c.packets, bytes: c.bytes }, f, `${path}: exact bytes of pair ${key}`);
    }
  }
  return o;
}

// One test per capture (each well inside the runner's timeout even on a busy machine), then a
// coverage check, so a missing or shrunken corpus cannot pass quietly.
const corpus = pcapsDir();
const manifestPresent = existsSync(join(corpus, 'MANIFEST.tsv'));
const coverage = { compared: 0, pairs: 0 };

for (const file of manifestPresent ? corpusFiles(corpus) : []) {
  test(`corpus: ${file} equals tshark io,phs and conv,ip/ipv6`, (t) => {
    const tshark = requireTool(t, 'tshark');
    if (!tshark) return;
    const different = DIFFERENT_BY_DESIGN[file];
    if (different) {
      different.check(tshark, join(corpus, file));
      t.diagnostic(`differs by design, difference checked: ${different.reason}`);
      return;
    }
    const known = KNOWN[file];
    let outcome: Outcome;
    try {
      outcome = compare(tshark, join(corpus, file), known, false);
    } catch (error) {
      // Compressed and foreign formats (gzip, zstd, snoop) tshark reads and we refuse by design,
      // with an error that says what the file is.
      if (isCaptureFormatError(error) && (error.code === 'COMPRESSED' || error.code === 'UNKNOWN_FORMAT') && /\.(gz|zst|snoop)$/.test(file)) {
        assert.match(error.message, /gzip-compressed|zstd-compressed|unknown file format \(magic 0x[0-9a-f]+\)/);
        t.diagnostic(`refused by design: ${error.message}`);
        return;
      }
      throw error;
    }
    coverage.compared++;
    coverage.pairs += outcome.comparedPairs;
    assert.deepEqual(outcome.problems, [], outcome.problems.join('\n'));
    for (const what of [...(known?.protocols ?? []), ...(known?.pairs ?? [])]) {
      assert.ok(outcome.knownHit.has(what), `KNOWN lists ${what} (${known!.reason}) but it now matches: remove it`);
    }
  });
}

test('the corpus comparison covered the shared captures', (t) => {
  const tshark = requireTool(t, 'tshark');
  if (!tshark) return;
  assert.ok(manifestPresent, `no MANIFEST.tsv in ${corpus} (set PCAPMESH_PCAPS to the shared pcaps directory)`);
  assert.ok(coverage.compared >= 100, `only ${coverage.compared} captures compared`);
  assert.ok(coverage.pairs >= 200, `only ${coverage.pairs} conversations compared`);
});

const GENERATED = [
  { name: 'Ethernet µs', opts: { seed: 1, packets: 20_000, linkType: LinkType.ETHERNET } },
  { name: 'Ethernet ns', opts: { seed: 2, packets: 8_000, nanosecond: true, duration: 5 } },
  { name: 'Linux SLL', opts: { seed: 3, packets: 6_000, linkType: LinkType.LINUX_SLL } },
  { name: 'Linux SLL2', opts: { seed: 4, packets: 6_000, linkType: LinkType.LINUX_SLL2 } },
  { name: 'raw IP', opts: { seed: 5, packets: 6_000, linkType: LinkType.RAW } },
];

for (const { name, opts } of GENERATED) {
  test(`analyze equals tshark on a generated capture (${name}), bytes exact`, (t) => {
    const tshark = requireTool(t, 'tshark');
    if (!tshark) return;
    const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-analyze-'));
    try {
      const path = join(dir, 'gen.pcap');
      writeCapture(path, opts);
      const outcome = compare(tshark, path, undefined, true);
      assert.deepEqual(outcome.problems, []);
      assert.ok(outcome.comparedPairs >= 20, `only ${outcome.comparedPairs} pairs compared`);
      const { report } = analyzeInto(new Analyzer(), [path]);
      const seen = new Set(report.protocols.filter((p) => p.packets > 0).map((p) => p.protocol));
      const expected =
        opts.linkType === undefined || opts.linkType === LinkType.ETHERNET
          ? ['ethernet', 'vlan', 'ipv4', 'ipv6', 'arp', 'tcp', 'udp', 'icmp', 'icmpv6']
          : ['ipv4', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6'];
      for (const p of expected) assert.ok(seen.has(p as ProtocolName), `generated ${name} capture has no ${p}`);
      assert.equal(formatIpv4(0x0a010101), '10.1.1.1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
