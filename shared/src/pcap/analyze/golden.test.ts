/**
 * The analysis keeps its results when its code changes (e.g. for speed): the reports of a set
 * of real captures from the shared corpus and of generated ones (many hosts, a tiny table cap
 * so the Space-Saving sketch path runs, SLL2 and raw-IP link types) must equal the reports
 * recorded in golden/reports.jsonl (one line per input), field by field and in order.
 *
 * Each input is recorded twice: the report as the CLI prints it (top 20, compared in full so a
 * failure shows the differing rows; its timeline reduced to bucket count and sums), and a
 * SHA-256 of the whole report with every row (top = all) and the full timeline, so a change
 * anywhere is caught without storing it all.
 *
 * The recording was made by the analyser before its hash-table rework (#12). To record again
 * after a deliberate change of the report's meaning (bump REPORT_VERSION then):
 *   PCAPMESH_RECORD_GOLDEN=1 node --conditions=pcapmesh-src --import tsx --test shared/src/pcap/analyze/golden.test.ts
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { GenOptions } from '../gen/generator.js';
import { writeCapture } from '../gen/output.js';
import { LinkType } from '../types.js';
import { inCi, pcapsDir } from '../../util/testing.js';
import { analyzeInto } from './analyze-files.js';
import { Analyzer, type AnalyzerOptions } from './analyzer.js';
import type { AnalysisReport } from './report.js';

const goldenPath = fileURLToPath(new URL('./golden/reports.jsonl', import.meta.url));
const recording = process.env.PCAPMESH_RECORD_GOLDEN === '1';

/** Real captures: mixed traffic, TLS, DNS, fragments, SLL, several link types, snaplen, damage, IPv6. */
const CORPUS = [
  'pcapplusplus/Pcap++Test/example2.pcap',
  'pcapplusplus/Pcap++Test/example.pcap',
  'pcapplusplus/ExamplesTest/tls2.pcap',
  'derived/formats/DnsPackets.pcapng',
  'pcapplusplus/ExamplesTest/ip-frag.pcap',
  'pcapplusplus/Pcap++Test/sll.pcap',
  'derived/formats/multi-linktype.pcapng',
  'derived/formats/http-packets2-snap96.pcap',
  'pcapplusplus/Pcap++Test/four_ipv6_http_streams.pcap',
  'pcapplusplus/Pcap++Test/4KHttpRequests.pcap',
  'tcpdump/afs.pcap',
  'tcpdump/pim-packet-assortment.pcap',
  'derived/broken/trunc-in-packet-data.pcap',
];

/** Many clients and servers (v4 and v6, some VLAN-tagged): thousands of pairs and flows. */
function manyHosts(): Pick<GenOptions, 'hosts' | 'servers'> {
  const hosts: string[] = [];
  const servers: string[] = [];
  for (let i = 0; i < 300; i++) hosts.push(i % 3 === 0 ? `2001:db8:${i}::${i + 1}` : `10.${i % 7}.${i >> 3}.${(i % 250) + 1}${i % 5 === 0 ? '%42' : ''}`);
  for (let i = 0; i < 60; i++) servers.push(i % 4 === 0 ? `2606:4700:${i}::${i + 7}` : `198.51.${i}.${200 - i}`);
  return { hosts, servers };
}

interface Generated {
  name: string;
  gen: GenOptions;
  analyzer?: AnalyzerOptions;
}

const GENERATED: Generated[] = [
  { name: 'gen-mix', gen: { seed: 3, packets: 6000, duration: 120 } },
  { name: 'gen-many-hosts', gen: { seed: 5, packets: 20_000, duration: 600, ...manyHosts() } },
  { name: 'gen-many-hosts-capped', gen: { seed: 5, packets: 20_000, duration: 600, ...manyHosts() }, analyzer: { limits: { cap: 200, sketch: 64 } } },
  { name: 'gen-sll2-nano', gen: { seed: 9, packets: 4000, duration: 30, linkType: LinkType.LINUX_SLL2, nanosecond: true } },
  { name: 'gen-raw', gen: { seed: 11, packets: 4000, duration: 3600 * 24 * 30, linkType: LinkType.RAW } },
];

/** The stored form of a report: the timeline's arrays reduced to their length and sums. */
type StoredReport = Omit<AnalysisReport, 'timeline'> & {
  timeline: { start: number; bucketSeconds: number; buckets: number; packets: number; bytes: number };
};

interface Recorded {
  /** The report with the default top 20 (files reduced to base names). */
  report: StoredReport;
  /** SHA-256 of the JSON report with every row. */
  allRows: string;
}

const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-golden-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function analyse(path: string, opts: AnalyzerOptions = {}): Recorded {
  const name = (r: AnalysisReport): AnalysisReport => ({
    ...r,
    files: r.files.map((f) => f.split('/').pop()!),
    capture: { ...r.capture, problems: r.capture.problems.map((p) => ({ ...p, file: p.file.split('/').pop()! })) },
  });
  const { timeline, ...rest } = name(analyzeInto(new Analyzer(opts), [path]).report);
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const report = {
    ...rest,
    timeline: {
      start: timeline.start,
      bucketSeconds: timeline.bucketSeconds,
      buckets: timeline.packets.length,
      packets: sum(timeline.packets),
      bytes: sum(timeline.bytes),
    },
  };
  const all = name(analyzeInto(new Analyzer({ ...opts, top: Number.MAX_SAFE_INTEGER }), [path]).report);
  return { report, allRows: createHash('sha256').update(JSON.stringify(all)).digest('hex') };
}

const golden = new Map<string, Recorded>();
if (!recording && existsSync(goldenPath)) {
  for (const line of readFileSync(goldenPath, 'utf8').split('\n').filter(Boolean)) {
    const { name, ...rec } = JSON.parse(line) as Recorded & { name: string };
    golden.set(name, rec);
  }
}
const recorded: Record<string, Recorded> = {};

function check(name: string, got: Recorded): void {
  if (recording) {
    recorded[name] = got;
    return;
  }
  const want = golden.get(name);
  assert.ok(want, `${name}: no recorded report in ${goldenPath} (record with PCAPMESH_RECORD_GOLDEN=1)`);
  assert.deepEqual(got.report, want.report, `${name}: the top-20 report changed`);
  assert.equal(got.allRows, want.allRows, `${name}: the report with every row changed (the top 20 did not)`);
}

test('reports of real captures equal the recorded ones', (t) => {
  const pcaps = pcapsDir();
  if (!existsSync(join(pcaps, 'MANIFEST.tsv'))) {
    const message = `the capture corpus is missing (${pcaps}; set PCAPMESH_PCAPS)`;
    if (inCi()) throw new Error(`${message}; CI=true requires it`);
    t.skip(message);
    return;
  }
  for (const file of CORPUS) check(file, analyse(join(pcaps, file)));
});

test('reports of generated captures (many hosts, sketch past a tiny cap, SLL2, raw IP) equal the recorded ones', () => {
  for (const g of GENERATED) {
    const path = join(dir, `${g.name}.pcap`);
    writeCapture(path, g.gen);
    check(g.name, analyse(path, g.analyzer));
  }
});

after(() => {
  if (!recording) return;
  const lines = Object.entries(recorded).map(([name, rec]) => JSON.stringify({ name, ...rec }));
  writeFileSync(goldenPath, lines.join('\n') + '\n');
  console.log(`recorded ${Object.keys(recorded).length} reports in ${goldenPath}`);
});
