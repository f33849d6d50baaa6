import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DOMAINS } from '../gen/hosts.js';
import { writeCapture } from '../gen/output.js';
import { analyzeFiles, analyzeInto } from './analyze-files.js';
import { Analyzer } from './analyzer.js';
import type { AnalysisReport } from './report.js';

const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-analyzer-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const capture = join(dir, 'mix.pcap');
const summary = writeCapture(capture, { seed: 3, packets: 6000, duration: 120 });

test('totals add up and every section is filled from a generated mix', () => {
  const r = analyzeFiles([capture], { top: 5 });
  assert.equal(r.capture.packets, 6000);
  assert.equal(r.capture.bytes, summary.bytes - 24 - 16 * 6000, 'wire bytes = file minus headers');
  assert.equal(r.capture.first, summary.first!.sec + summary.first!.nsec / 1e9);
  const proto = Object.fromEntries(r.protocols.map((p) => [p.protocol, p.packets]));
  assert.equal(proto.ethernet, 6000);
  assert.equal(proto.ipv4! + proto.ipv6! + proto.arp! + proto.other!, 6000);
  assert.equal(r.topTalkers.length, 5);
  assert.ok(r.topTalkers[0]!.bytes >= r.topTalkers[4]!.bytes, 'talkers sorted');
  assert.equal(r.conversations.ip.length, 5);
  assert.equal(r.conversations.ipTable.capped, false);
  assert.ok(r.topPorts.some((p) => p.transport === 'tcp' && p.port === 443));
  // Flows: directions add up, each flow lies within the conversation of its address pair.
  const all = analyzeInto(new Analyzer({ top: 10_000 }), [capture]).report;
  const pairs = new Map(all.conversations.ip.map((c) => [[c.a, c.b].sort().join(' '), c]));
  assert.ok(all.conversations.flows.some((f) => f.a.includes(':')) && all.conversations.flows.some((f) => !f.a.includes(':')));
  for (const f of all.conversations.flows) {
    assert.equal(f.packets, f.aToB.packets + f.bToA.packets);
    assert.ok(f.aPort >= 0 && f.bPort >= 0 && (f.transport === 'tcp' || f.transport === 'udp'));
    const pair = pairs.get([f.a, f.b].sort().join(' '));
    assert.ok(pair && pair.packets >= f.packets && pair.first <= f.first && pair.last >= f.last, `flow ${f.a} ${f.aPort} → ${f.b} ${f.bPort}`);
  }
  const tls = all.conversations.flows.filter((f) => f.transport === 'tcp' && f.bPort === 443);
  assert.ok(tls.length > 0 && tls.every((f) => f.aToB.packets > 0 && f.bToA.packets > 0), 'client → :443 flows, both ways');
  assert.equal(
    r.timeline.packets.reduce((a, b) => a + b, 0),
    6000,
  );
  assert.ok(r.timeline.packets.length >= 119 && r.timeline.packets.length <= 121);
  for (const list of [r.dns, r.tlsSni, r.httpHosts]) {
    assert.ok(list.length > 0);
    for (const n of list) assert.ok(DOMAINS.includes(n.name), `unexpected name ${n.name}`);
  }
});

test('past the table cap, totals stay exact and the report says rows are estimates', () => {
  const exact = analyzeInto(new Analyzer(), [capture]).report;
  const capped = analyzeInto(new Analyzer({ top: 50, limits: { cap: 10, sketch: 8 } }), [capture]).report;
  assert.deepEqual(capped.protocols, exact.protocols);
  assert.equal(capped.conversations.ipTable.capped, true);
  assert.equal(capped.conversations.flowTable.capped, true);
  assert.equal(capped.conversations.ipTable.distinct, 10);
  assert.ok(capped.conversations.ip.some((c) => c.approximate));
  assert.ok(capped.conversations.ip.filter((c) => !c.approximate).length === 10);
  // Exact rows (admitted before the cap) keep exact counts.
  const byPair = new Map(exact.conversations.ip.map((c) => [`${c.a} ${c.b}`, c]));
  for (const c of capped.conversations.ip.filter((x) => !x.approximate)) {
    const e = byPair.get(`${c.a} ${c.b}`);
    if (e) assert.deepEqual(c, e);
  }
});

const bin = fileURLToPath(new URL('../../../bin/pcapmesh-pcap.js', import.meta.url));
// From source: a stale shared/dist must not stand in for the code under test.
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'analyze', ...args], { encoding: 'utf8', env: { ...process.env, PCAPMESH_FROM_SOURCE: '1' } });

test('the analyze command prints the JSON report, and a human summary', () => {
  const json = cli('--json', '--top', '3', capture);
  assert.equal(json.status, 0, json.stderr);
  const r = JSON.parse(json.stdout) as AnalysisReport;
  assert.equal(r.version, 1);
  assert.equal(r.capture.packets, 6000);
  assert.equal(r.topTalkers.length, 3);
  const text = cli(capture);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^protocols$/m);
  assert.match(text.stdout, /TLS server names \(SNI\)/);
});

test('bad input: a clear error naming the file, usage errors exit 2', () => {
  const junk = join(dir, 'junk.pcap');
  writeFileSync(junk, 'this is not a capture');
  const r = cli(junk);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /junk\.pcap/);
  assert.equal(cli().status, 2);
  assert.equal(cli('--top', 'many', capture).status, 2);
});
