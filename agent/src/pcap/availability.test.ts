import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { inCi, pcapsDir, requireTool } from '@pcapmesh/shared/util/testing';
import { timestampToDecimal } from '@pcapmesh/shared/pcap/timestamp';
import type { Timestamp } from '@pcapmesh/shared/pcap';
import { AvailabilityScanner, type SourceSpec } from './availability.js';

const corpus = pcapsDir();
const mixed = [
  'derived/formats/DnsPackets.pcapng', // pcapng, µs
  'derived/formats/DnsPackets-nsec.pcap', // classic, ns, little-endian
  'pcapplusplus/ExamplesTest/http-packets2.pcap', // classic, µs, little-endian
  'pcapplusplus/Pcap++Test/nanosecs_big_endian.pcap', // classic, ns, big-endian
  'pcapplusplus/Pcap++Test/microsecs_big_endian.pcap', // classic, µs, big-endian
];
const truncated = 'derived/broken/trunc-in-packet-data.pcap';
const HOUR_AGO = (Date.now() - 3_600_000) / 1000;

function haveCorpus(t: { skip: (m: string) => void }): boolean {
  if (existsSync(join(corpus, 'MANIFEST.tsv'))) return true;
  const message = `PCAP corpus not found at ${corpus} (set PCAPMESH_PCAPS)`;
  if (inCi()) throw new Error(message);
  t.skip(message);
  return false;
}

/** Copies corpus files into a fresh directory, with old mtimes (nothing looks "being written"). */
function directoryOf(files: string[], rename: (f: string) => string = basename): string {
  const dir = mkdtempSync(join(tmpdir(), 'avail-'));
  for (const f of files) {
    const to = join(dir, rename(f));
    copyFileSync(join(corpus, f), to);
    utimesSync(to, HOUR_AGO, HOUR_AGO);
  }
  return dir;
}

const spec = (directory: string, gapSeconds = 120): SourceSpec => ({ name: 'test', directory, gapSeconds, activeSeconds: 70 });

/** capinfos' first and last packet time of each file, exact decimal seconds. */
function capinfosTimes(capinfos: string, dir: string): Map<string, [string, string]> {
  const files = readdirSync(dir).map((f) => join(dir, f));
  const r = spawnSync(capinfos, ['-a', '-e', '-T', '-r', '-S', ...files], { encoding: 'utf8' });
  const out = new Map<string, [string, string]>();
  for (const line of r.stdout.trim().split('\n')) {
    const [file, first, last] = line.split('\t');
    out.set(basename(file!), [first!, last!]);
  }
  return out;
}

/** Compares a decimal string from capinfos with a Timestamp at capinfos' printed precision. */
function same(t: Timestamp, decimal: string): boolean {
  const digits = decimal.split('.')[1]?.length ?? 0;
  return timestampToDecimal(t).slice(0, timestampToDecimal(t).length - (9 - digits)) === decimal;
}

test('oldest/newest of pcap, pcapng, ns and big-endian files and a truncated one match capinfos', (t) => {
  if (!haveCorpus(t)) return;
  const capinfos = requireTool(t, 'capinfos');
  if (!capinfos) return;
  const dir = directoryOf([...mixed, truncated]);
  const expected = capinfosTimes(capinfos, dir);
  assert.equal(expected.size, mixed.length + 1, 'capinfos read every file');

  const [source] = new AvailabilityScanner([spec(dir, 1e9)]).scan();
  assert.ok(source);
  assert.equal(source.files, mixed.length + 1);
  const firsts = [...expected.values()].map(([f]) => f);
  const lasts = [...expected.values()].map(([, l]) => l);
  const minFirst = firsts.reduce((a, b) => (Number(a) <= Number(b) ? a : b));
  const maxLast = lasts.reduce((a, b) => (Number(a) >= Number(b) ? a : b));
  assert.ok(source.oldest && same(source.oldest, minFirst), `oldest ${JSON.stringify(source.oldest)} vs capinfos ${minFirst}`);
  assert.ok(source.newest && same(source.newest, maxLast), `newest ${JSON.stringify(source.newest)} vs capinfos ${maxLast}`);

  // The truncated file is reported with its offset, and it does not stop the scan.
  assert.equal(source.problems.length, 1);
  assert.equal(basename(source.problems[0]!.file), basename(truncated));
  assert.equal(source.problems[0]!.offset, 6423);
});

test('each file alone: first and last packet time exact to the ns/µs of capinfos', (t) => {
  if (!haveCorpus(t)) return;
  const capinfos = requireTool(t, 'capinfos');
  if (!capinfos) return;
  for (const file of [...mixed, truncated]) {
    const dir = directoryOf([file]);
    const [[first, last]] = [...capinfosTimes(capinfos, dir).values()] as [[string, string]];
    const [source] = new AvailabilityScanner([spec(dir)]).scan();
    assert.ok(source?.oldest && same(source.oldest, first), `${file}: first ${JSON.stringify(source?.oldest)} vs ${first}`);
    assert.ok(source.newest && same(source.newest, last), `${file}: last ${JSON.stringify(source.newest)} vs ${last}`);
  }
});

test('a tcpdump-style ring: gaps where no file covers more than the threshold', (t) => {
  if (!haveCorpus(t)) return;
  const ring = readdirSync(join(corpus, 'derived/rolling-dns')).map((f) => `derived/rolling-dns/${f}`);
  const [source] = new AvailabilityScanner([spec(directoryOf(ring), 120)]).scan();
  assert.ok(source);
  assert.equal(source.files, ring.length);
  // 19:18:02.183640 → 19:21:49.842046 and 19:23:20.888658 → 19:27:23.727396 (MANIFEST.tsv times).
  assert.deepEqual(
    source.gaps.map((g) => [g.from.sec, g.from.nsec, g.to.sec, g.to.nsec]),
    [
      [Date.UTC(2014, 9, 11, 19, 18, 2) / 1000, 183_640_000, Date.UTC(2014, 9, 11, 19, 21, 49) / 1000, 842_046_000],
      [Date.UTC(2014, 9, 11, 19, 23, 20) / 1000, 888_658_000, Date.UTC(2014, 9, 11, 19, 27, 23) / 1000, 727_396_000],
    ],
  );
  assert.equal(source.problems.length, 0);
});

test('recognised by magic, not by name; bad files are problems, never fatal; rescans read only changes', (t) => {
  if (!haveCorpus(t)) return;
  const dir = directoryOf(['derived/formats/DnsPackets.pcapng', 'derived/broken/not-a-capture.pcap', 'derived/broken/zero-bytes.pcap']);
  mkdirSync(join(dir, '2014-10-11'));
  copyFileSync(join(corpus, 'derived/formats/DnsPackets-nsec.pcap'), join(dir, '2014-10-11', 'capture-without-extension'));
  writeFileSync(join(dir, 'README.txt'), 'notes, not a capture');
  for (const f of ['2014-10-11/capture-without-extension', 'README.txt']) utimesSync(join(dir, f), HOUR_AGO, HOUR_AGO);

  const scanner = new AvailabilityScanner([spec(dir), spec(join(dir, 'missing'))]);
  const [source, missing] = scanner.scan();
  assert.equal(source!.files, 2, 'the pcapng and the capture without extension');
  assert.deepEqual(source!.problems.map((p) => [basename(p.file), p.reason]).sort(), [
    ['not-a-capture.pcap', 'not a pcap or pcapng file (unknown magic)'],
    ['zero-bytes.pcap', 'empty file'],
  ]);
  assert.deepEqual(
    missing!.problems.map((p) => p.reason),
    ['directory not found'],
  );
  assert.equal(missing!.files, 0);
  assert.equal(missing!.oldest, null);

  const readBefore = scanner.counters.filesRead;
  scanner.scan();
  assert.equal(scanner.counters.filesRead, readBefore, 'nothing changed, nothing re-read');
  copyFileSync(join(corpus, truncated), join(dir, 'new.pcap'));
  const [again] = scanner.scan();
  assert.equal(scanner.counters.filesRead, readBefore + 1, 'only the new file is read');
  assert.equal(again!.files, 3);
  // new.pcap is the newest file and was just written: its torn tail is that of a file in progress.
  assert.equal(again!.problems.length, 2);
});
