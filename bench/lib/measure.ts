/**
 * Bench helpers shared by every bench script: run a command N times, take the median wall time
 * and the peak resident memory (GNU time's %M), and print markdown rows with ratios against the
 * reference tool measured in the same run.
 *
 * @example
 * const ours = measure('ours', 'node', ['shared/bin/pcapmesh-pcap.js', 'merge', ...]);
 * const ref = measure('mergecap', 'mergecap', ['-F', 'pcap', ...]);
 * printTable('merge of 8 × 128 MB', [ours, ref], { bytes: total });
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

export interface Measurement {
  label: string;
  /** Median wall time over the runs, seconds. */
  seconds: number;
  /** Every run's wall time, seconds. */
  runs: number[];
  /** Median CPU time (user + system) over the runs, seconds: less sensitive to a busy machine. */
  cpuSeconds: number;
  /** Largest peak RSS over the runs, MiB. */
  peakRssMiB: number;
}

export interface MeasureOptions {
  runs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Called before each run (e.g. remove the previous output). */
  before?: () => void;
}

const GNU_TIME = '/usr/bin/time';

/** Runs `command args` `runs` times (default 3); throws with its stderr when it fails. */
export function measure(label: string, command: string, args: string[], opts: MeasureOptions = {}): Measurement {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing: apt-get install time (scripts/install-deps.sh)`);
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-bench-'));
  const runs: number[] = [];
  const cpu: number[] = [];
  let peakKiB = 0;
  try {
    for (let i = 0; i < (opts.runs ?? 3); i++) {
      opts.before?.();
      const out = join(dir, `time-${i}`);
      const started = process.hrtime.bigint();
      const r = spawnSync(GNU_TIME, ['-f', '%e %M %U %S', '-o', out, command, ...args], {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ['ignore', 'ignore', 'pipe'],
        maxBuffer: 1 << 24,
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (r.status !== 0) throw new Error(`${label}: ${command} ${args.join(' ')} exited ${r.status}: ${r.stderr?.toString().slice(-2000)}`);
      const [, rss, user, system] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ');
      runs.push(seconds);
      cpu.push(Number(user) + Number(system));
      peakKiB = Math.max(peakKiB, Number(rss));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { label, seconds: median(runs), runs, cpuSeconds: median(cpu), peakRssMiB: peakKiB / 1024 };
}

/** "AMD EPYC, 2 cores, 23.5 GiB, Node v20.20.2, 2026-11-28T05:30Z" */
export function machine(): string {
  const cpu = cpus();
  const when = new Date().toISOString().slice(0, 16);
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${when}Z`;
}

/** Seconds to print: two decimals, three below a tenth of a second. */
const secs = (s: number): string => s.toFixed(s < 0.1 ? 3 : 2);

/**
 * Prints a markdown table: one row per measurement with wall time, CPU time, throughput (when
 * `bytes` given), peak RSS, and the speed ratio of the first row against each other row
 * (reference time ÷ ours: > 1 means ours is faster), by wall time and by CPU time.
 */
export function printTable(title: string, rows: Measurement[], opts: { bytes?: number } = {}): string {
  const ours = rows[0]!;
  const lines = [
    `### ${title}`,
    '',
    `Machine: ${machine()}`,
    '',
    '| tool | median wall s | runs (wall s) | MB/s (wall) | median CPU s | peak RSS MiB | ours faster by (wall) | ours faster by (CPU) |',
    '|---|---:|---|---:|---:|---:|---:|---:|',
    ...rows.map((m) => {
      const mbs = opts.bytes ? (opts.bytes / 1e6 / m.seconds).toFixed(0) : '–';
      const wall = m === ours ? '(ours)' : `${(m.seconds / ours.seconds).toFixed(2)}×`;
      const cpu = m === ours ? '(ours)' : `${(m.cpuSeconds / ours.cpuSeconds).toFixed(2)}×`;
      return `| ${m.label} | ${secs(m.seconds)} | ${m.runs.map(secs).join(' / ')} | ${mbs} | ${secs(m.cpuSeconds)} | ${m.peakRssMiB.toFixed(0)} | ${wall} | ${cpu} |`;
    }),
    '',
  ];
  const text = lines.join('\n');
  console.log(text);
  return text;
}
