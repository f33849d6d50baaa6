/**
 * Capture fixtures for the job tests and what the reference tools make of them.
 *
 * Three sensors at different locations whose capture directories overlap the way taps on shared
 * links do: B sees part of A's link (the same frames at the same times), C sees another part of
 * A's link and part of B's own, so some frames exist on two sensors and some on all three; each
 * also has traffic of its own, and C holds the real TLS capture of the shared corpus
 * (`pcapplusplus/ExamplesTest/tls2.pcap`, 7,451 packets, its times moved into the fixture's window).
 * Files are rolling directories like `tcpdump -G 60` leaves (cap-YYYYmmddHHMMSS.pcap), nanosecond
 * pcap, with old modification times (closed files).
 *
 * The reference for a job is computed with the real tools, the way an analyst would by hand:
 *   tcpdump -r FILE -w PART '(F) or (vlan and ((F) or (vlan and (F))))'   for every file of every sensor
 *   mergecap -F nsecpcap -w merged PARTS…                                  sensors in merge order
 *   editcap -F nsecpcap -A FROM -B TO merged windowed                      from ≤ t < to
 *   editcap -F nsecpcap -w 0.001 windowed reference                        identical frames ≤ 1 ms apart
 * editcap's duplicate rule (an identical earlier frame at most the window before) equals the merge's
 * (shared/src/pcap/merge-dedup.ts, DEFAULT_DEDUP_WINDOW_NS = 1 ms) when no single sensor holds two
 * identical frames within 1 ms — the merge only drops frames of ANOTHER input — which
 * `referenceExtract` checks on each sensor's own selection before trusting the comparison.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '@pcapmesh/shared/pcap/reader';
import { PcapWriter } from '@pcapmesh/shared/pcap/writer';
import { utcStamp, writeCapture, writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import type { Timestamp } from '@pcapmesh/shared/pcap/types';
import { pcapsDir } from './env.js';

/** 2026-01-01T10:00:00Z: the fixture's captures span [START, START + SPAN). */
export const FIXTURE_START = 1_767_261_600;
export const FIXTURE_SPAN = 600;
/** The real capture C holds, and where its first packet lands. */
export const REAL_CAPTURE = 'pcapplusplus/ExamplesTest/tls2.pcap';
const REAL_AT = FIXTURE_START + 150;

/** One packet, copied out of a reader. */
export interface Packet {
  sec: number;
  nsec: number;
  origLen: number;
  linkType: number;
  data: Buffer;
}

export interface SensorFixture {
  name: string;
  location: string;
  directory: string;
  files: string[];
  packets: number;
}

/** Every packet of the captures, in file order (files in the given order). */
export function readPackets(paths: string | readonly string[]): Packet[] {
  const out: Packet[] = [];
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    const r = openCapture(path);
    try {
      for (let p = r.next(); p; p = r.next()) {
        out.push({ sec: p.sec, nsec: p.nsec, origLen: p.origLen, linkType: p.linkType, data: Buffer.from(p.data) });
      }
      if (r.problems.length > 0) throw new Error(`${path} is damaged: ${r.problems.map((x) => x.reason).join('; ')}`);
    } finally {
      r.close();
    }
  }
  return out;
}

const cmp = (a: Timestamp, b: Timestamp): number => a.sec - b.sec || a.nsec - b.nsec;

/**
 * Writes `packets` (sorted here, stable) as a rolling directory: a new nanosecond pcap file each time
 * packet time crosses the next multiple of `fileSeconds` after FIXTURE_START, named after its first
 * packet. Returns the files in time order.
 */
export function writeRolling(dir: string, packets: readonly Packet[], fileSeconds = 60): string[] {
  mkdirSync(dir, { recursive: true });
  const sorted = [...packets].sort(cmp);
  const files: string[] = [];
  let writer: PcapWriter | null = null;
  let index = Number.NaN;
  for (const p of sorted) {
    const i = Math.floor((p.sec - FIXTURE_START) / fileSeconds);
    if (i !== index) {
      writer?.close();
      const path = join(dir, `cap-${utcStamp(p.sec)}.pcap`);
      writer = PcapWriter.toFile(path, { linkType: p.linkType, nanosecond: true });
      files.push(path);
      index = i;
    }
    writer!.write({ ...p, caplen: p.data.length, interfaceId: 0, offset: 0 });
  }
  writer?.close();
  return files;
}

/** Generated traffic in memory (through a scratch file). */
function generate(scratch: string, seed: number, bytes: number): Packet[] {
  const path = join(scratch, `gen-${seed}.pcap`);
  writeCapture(path, { seed, bytes, start: FIXTURE_START + (seed % 97) * 0.000_003_917, duration: FIXTURE_SPAN - 1, nanosecond: true });
  const packets = readPackets(path);
  rmSync(path);
  return packets;
}

const within =
  (from: number, to: number) =>
  (p: Packet): boolean =>
    p.sec >= FIXTURE_START + from && p.sec < FIXTURE_START + to;

/** Sets every file's modification time `secondsAgo` in the past: the agent treats them as closed. */
export function ageFiles(dir: string, secondsAgo = 3600): void {
  const then = new Date(Date.now() - secondsAgo * 1000);
  for (const name of readdirSync(dir)) utimesSync(join(dir, name), then, then);
}

/**
 * The three overlapping sensors under `root` (see the file comment). `scale` multiplies the
 * generated traffic (1 ≈ 3 + 1.5 + 1 MB of own traffic; C's real capture adds 2.9 MB).
 */
export function buildOverlappingSensors(root: string, scale = 1): SensorFixture[] {
  const scratch = join(root, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const a = generate(scratch, 101, Math.round(3e6 * scale));
  const bOwn = generate(scratch, 202, Math.round(1.5e6 * scale));
  const cOwn = generate(scratch, 303, Math.round(1e6 * scale));
  const real = readPackets(join(pcapsDir(), REAL_CAPTURE));
  const shift = REAL_AT - real[0]!.sec;
  const cReal = real.map((p) => ({ ...p, sec: p.sec + shift }));
  rmSync(scratch, { recursive: true, force: true });

  const b = [...bOwn, ...a.filter(within(120, 420))];
  const c = [...cOwn, ...cReal, ...a.filter(within(300, 540)), ...bOwn.filter(within(200, 300))];
  assertNoForeignTies([a, bOwn, cOwn, cReal]);

  const specs: [string, string, Packet[]][] = [
    ['tap-a', 'dc-east', a],
    ['tap-b', 'dc-west', b],
    ['tap-c', 'branch-north', c],
  ];
  return specs.map(([name, location, packets]) => {
    const directory = join(root, name);
    const files = writeRolling(directory, packets);
    ageFiles(directory);
    return { name, location, directory, files, packets: packets.length };
  });
}

/**
 * Distinct frames of different origins never share a timestamp, so the merge order of ties (which
 * depends on the order of the merge's inputs) cannot make a correct result differ from the reference.
 */
function assertNoForeignTies(origins: Packet[][]): void {
  const seen = new Map<string, number>();
  origins.forEach((packets, origin) => {
    for (const p of packets) {
      const key = `${p.sec}.${p.nsec}`;
      const other = seen.get(key);
      if (other !== undefined && other !== origin) throw new Error(`fixture: two origins both have a packet at ${key}; change a seed`);
      seen.set(key, origin);
    }
  });
}

/** `(F) or (vlan and ((F) or (vlan and (F))))`: what our filter means, in tcpdump's language. */
export function throughTags(filter: string): string {
  return filter.trim() === '' ? '' : `(${filter}) or (vlan and ((${filter}) or (vlan and (${filter}))))`;
}

/** "1767261720.000000001" from a Timestamp (editcap -A/-B take Unix epoch times with a fraction). */
export function epochText(t: Timestamp): string {
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`;
}

function run(tool: string, args: string[]): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  } catch (err) {
    const e = err as { status?: number; stderr?: string };
    throw new Error(`${tool} ${args.join(' ')} exited ${e.status}: ${e.stderr ?? ''}`, { cause: err });
  }
}

export interface Reference {
  /** The reference capture (nanosecond pcap). */
  path: string;
  packets: Packet[];
  /** Packets the window kept before duplicates were removed, and how many editcap removed. */
  beforeDedup: number;
  duplicates: number;
}

/**
 * The job's expected result by the reference tools (see the file comment): `sensors` in the order
 * the collector merges them. Throws when the precondition for comparing with the merge's dedup
 * fails (a single sensor's selection has identical frames within 1 ms).
 */
export function referenceExtract(
  sensors: readonly { name: string; files: readonly string[] }[],
  filter: string,
  window: { from: Timestamp; to: Timestamp },
  workDir: string,
): Reference {
  const dir = join(workDir, `reference-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const expr = throughTags(filter);
  const parts: string[] = [];
  for (const sensor of sensors) {
    const own: string[] = [];
    sensor.files.forEach((file, i) => {
      const part = join(dir, `${sensor.name}-${i}.pcap`);
      run('tcpdump', ['--time-stamp-precision=nano', '-r', file, '-w', part, ...(expr ? [expr] : [])]);
      own.push(part);
    });
    // Precondition: the sensor alone has no identical frames within 1 ms.
    const alone = join(dir, `${sensor.name}-all.pcap`);
    run('mergecap', ['-F', 'nsecpcap', '-w', alone, ...own]);
    const windowed = join(dir, `${sensor.name}-window.pcap`);
    run('editcap', ['-F', 'nsecpcap', '-A', epochText(window.from), '-B', epochText(window.to), alone, windowed]);
    const selfDups = editcapDedup(windowed, join(dir, `${sensor.name}-dedup.pcap`));
    if (selfDups !== 0) throw new Error(`fixture: ${sensor.name} alone has ${selfDups} identical frames within 1 ms: editcap and the merge would differ`);
    parts.push(...own);
  }
  const merged = join(dir, 'merged.pcap');
  run('mergecap', ['-F', 'nsecpcap', '-w', merged, ...parts]);
  const windowed = join(dir, 'windowed.pcap');
  run('editcap', ['-F', 'nsecpcap', '-A', epochText(window.from), '-B', epochText(window.to), merged, windowed]);
  const path = join(dir, 'reference.pcap');
  const duplicates = editcapDedup(windowed, path);
  const beforeDedup = countPackets(windowed);
  return { path, packets: readPackets(path), beforeDedup, duplicates };
}

/** editcap -w 0.001: returns how many frames it removed (from its report on stderr). */
function editcapDedup(input: string, output: string): number {
  const r = execFileSync('sh', ['-c', 'editcap -F nsecpcap -w 0.001 "$1" "$2" 2>&1', 'sh', input, output], { encoding: 'utf8' });
  const m = /(\d+) packets skipped with duplicate time window/.exec(r);
  if (!m) throw new Error(`editcap -w: no "packets skipped" in its output: ${r}`);
  return Number(m[1]);
}

function countPackets(path: string): number {
  const r = openCapture(path);
  let n = 0;
  try {
    while (r.next()) n++;
  } finally {
    r.close();
  }
  return n;
}

function describe(p: Packet | undefined): string {
  return p ? `${epochText(p)} len ${p.origLen} ${p.data.subarray(0, 24).toString('hex')}…` : 'nothing';
}

/** The first difference between two packet lists (time to the ns, original length, bytes), or null. */
export function firstDifference(ours: readonly Packet[], reference: readonly Packet[]): string | null {
  for (let i = 0; i < Math.max(ours.length, reference.length); i++) {
    const a = ours[i];
    const b = reference[i];
    if (!a || !b || a.sec !== b.sec || a.nsec !== b.nsec || a.origLen !== b.origLen || !a.data.equals(b.data)) {
      return `${ours.length} packets vs the reference's ${reference.length}; first difference at #${i}: ours ${describe(a)}, reference ${describe(b)}`;
    }
  }
  return null;
}

/** Total size of regular files under `dir` (recursively); 0 when it does not exist. */
export function treeBytes(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) {
    const st = statSync(join(dir, name));
    total += st.isDirectory() ? treeBytes(join(dir, name)) : st.size;
  }
  return total;
}

/**
 * One sensor's directory of `megabytes` of generated traffic over the fixture's span (files of 60 s,
 * aged): input large enough that an extract of it takes a while (cancel and kill mid-scan).
 */
export function buildBigSensor(dir: string, megabytes: number, seed = 404): SensorFixture & { bytes: number } {
  const summary = writeRollingCaptures(dir, { seed, bytes: megabytes * 1e6, start: FIXTURE_START, duration: FIXTURE_SPAN - 1 }, 60);
  ageFiles(dir);
  return { name: 'big', location: 'core', directory: dir, files: summary.files, packets: summary.packets, bytes: summary.bytes };
}

/**
 * Writes capture files into a directory as a live capture does: every `fileSeconds` of wall time a
 * new file `cap-YYYYmmddHHMMSS.pcap` holding generated traffic timestamped in the interval that just
 * ended (written under a hidden name, then renamed into place, as a rotation completes).
 */
export class LiveCaptureWriter {
  readonly files: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private next: number;
  private seed = 500;

  constructor(
    private readonly dir: string,
    private readonly fileSeconds = 2,
    private readonly packetsPerFile = 400,
  ) {
    mkdirSync(dir, { recursive: true });
    this.next = Math.floor(Date.now() / 1000);
  }

  /** Starts writing; each file covers [t, t + fileSeconds) of real time, written once that has passed. */
  start(): void {
    const tick = (): void => {
      const now = Date.now() / 1000;
      while (now >= this.next + this.fileSeconds) this.writeFile();
      this.timer = setTimeout(tick, 200);
    };
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private writeFile(): void {
    const from = this.next;
    this.next += this.fileSeconds;
    const final = join(this.dir, `cap-${utcStamp(from)}.pcap`);
    const temp = join(this.dir, `.writing-${utcStamp(from)}.pcap`);
    writeCapture(temp, { seed: this.seed++, packets: this.packetsPerFile, start: from + 0.000_001, duration: this.fileSeconds - 0.01, nanosecond: true });
    renameSync(temp, final);
    this.files.push(final);
  }
}
