/**
 * Acceptance: "Availability of a directory holding pcap, pcapng and nanosecond pcap files and one
 * truncated file matches capinfos' first and last packet times; the truncated file is reported, not
 * fatal" — a real agent watches a directory of real captures (copies from the shared corpus) and the
 * collector's API must show, to the nanosecond, the oldest and newest packet times and the gaps that
 * capinfos' per-file first/last times imply.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, utimesSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Timestamp } from '@pcapmesh/shared/wire';
import { timestampToIsoNanos } from '../../collector/src/domain/time.js';
import { Agent, BACKENDS, Collector, eventually, integrationTest, pcapsDir, prepareBackend, requireTool } from './harness.js';

/** Years apart, so every space between files is a gap whatever the agent's gap threshold. */
const FILES = [
  'tcpdump/isup.pcap', // classic pcap, big-endian, µs (2004)
  'derived/formats/DnsPackets.pcapng', // pcapng (2014-10)
  'tcpdump/tcp-handshake-nano.pcap', // classic pcap, ns (2014-12)
  'derived/broken/trunc-in-packet-data.pcap', // truncated inside a packet (2017)
  'pcapplusplus/ExamplesTest/tls2.pcap', // 2.8 MB, bigger than the agent's tail window (2021)
];
const TRUNCATED = 'trunc-in-packet-data.pcap';

/** "1418145369.924505488" → { sec, nsec } without float rounding. */
function parseEpoch(text: string): Timestamp {
  const [sec, frac = ''] = text.trim().split('.');
  return { sec: Number(sec), nsec: Number(frac.padEnd(9, '0').slice(0, 9)) };
}

const cmp = (a: Timestamp, b: Timestamp) => a.sec - b.sec || a.nsec - b.nsec;

/** capinfos' first and last packet time of one file (it reads a truncated file up to the damage). */
function capinfos(tool: string, file: string): { first: Timestamp; last: Timestamp } {
  let out: string;
  try {
    out = execFileSync(tool, ['-a', '-e', '-S', '-T', '-r', '-c', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // Exit 1 on a damaged file, with the times of the packets before the damage on stdout.
    out = String((err as { stdout?: unknown }).stdout ?? '');
  }
  const fields = out.trim().split('\n').at(-1)?.split('\t') ?? [];
  if (fields.length < 4) throw new Error(`unexpected capinfos output for ${file}: ${out}`);
  return { first: parseEpoch(fields[2]!), last: parseEpoch(fields[3]!) };
}

for (const backendName of BACKENDS) {
  integrationTest(`availability: pcap, pcapng, ns pcap and a truncated file match capinfos [${backendName}]`, async (scope) => {
    const tool = requireTool(scope.t, 'capinfos');
    if (!tool) return;
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;

    const directory = join(scope.dir, 'captures');
    mkdirSync(directory);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    for (const f of FILES) {
      const target = join(directory, basename(f));
      copyFileSync(join(pcapsDir(), f), target);
      // Old files: none of them is "still being written", so the truncated one must be reported.
      utimesSync(target, anHourAgo, anHourAgo);
    }
    const ranges = FILES.map((f) => capinfos(tool, join(directory, basename(f)))).sort((a, b) => cmp(a.first, b.first));
    const expected = {
      oldest: ranges[0]!.first,
      newest: ranges.reduce((m, r) => (cmp(r.last, m) > 0 ? r.last : m), ranges[0]!.last),
      gaps: ranges.slice(1).map((r, i) => ({ from: ranges[i]!.last, to: r.first })),
    };
    // The API gives the sources' times as ISO 8601 with all nine digits of the nanoseconds.
    const expectedIso = {
      oldest: timestampToIsoNanos(expected.oldest),
      newest: timestampToIsoNanos(expected.newest),
      gaps: expected.gaps.map((g) => ({ from: timestampToIsoNanos(g.from), to: timestampToIsoNanos(g.to) })),
    };

    const collector = await Collector.create(scope, { backend, healthIntervalSeconds: 60 });
    const secret = await collector.addSensor('alpha');
    await collector.start();
    const agent = new Agent(scope, {
      name: 'alpha',
      secret,
      mqttUrl: collector.mqttUrl,
      healthSeconds: 1,
      captures: [{ name: 'archive', directory }],
    });
    agent.start();

    const source = await eventually(async () => (await collector.api.sensor('alpha')).pcap.sources.find((s) => s.name === 'archive' && s.files > 0), {
      what: 'availability of the archive source in the API',
      timeoutMs: 60_000,
    });
    assert.equal(source.directory, directory);
    assert.deepEqual({ oldest: source.oldest, newest: source.newest }, { oldest: expectedIso.oldest, newest: expectedIso.newest }, 'oldest/newest vs capinfos');
    assert.deepEqual(source.gaps, expectedIso.gaps, 'gaps between files vs capinfos');
    assert.equal(source.files, FILES.length, 'every capture file counted, the truncated one included');
    const problem = source.problems.find((p) => p.file.endsWith(TRUNCATED));
    assert.ok(problem, `the truncated file must be reported: ${JSON.stringify(source.problems)}`);
    assert.equal(source.problems.length, 1, `only the truncated file is damaged: ${JSON.stringify(source.problems)}`);

    const view = await collector.api.sensor('alpha');
    assert.equal(view.status, 'online', 'a damaged file is not fatal');
    assert.ok(
      view.pcap.oldest !== null && Date.parse(view.pcap.oldest) === expected.oldest.sec * 1000 + Math.floor(expected.oldest.nsec / 1e6),
      `sensor pcap.oldest ${view.pcap.oldest}`,
    );
    await agent.stop();
    await collector.stop();
  });
}
