/**
 * Figure (issue #10): a capture job end to end against doing it by hand, same machine, same run.
 * Goal: submit → merged file downloadable at least 10× faster than the manual way; collector and
 * agent peak RSS during the job under 200 MB each.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/job-e2e.ts [RUNS=3] [GIB=1] [DB=pglite|postgres]
 *
 * Switches (environment): JOB_E2E_CLASSES=heavy,typical — only these host classes (default all);
 * JOB_E2E_PROFILE=1 — the collector and the agents run with `--cpu-prof` (one .cpuprofile per
 * thread, worker threads included, written when they stop) into the run's `prof/` directory, and
 * log at info level (the agents' task milestones with timestamps in `logs/sensor-*.log`).
 *
 * Input (bench/job-e2e-data.ts): three sensors, one hour of traffic each (GIB GiB per sensor),
 * indexed. Job: window [10:20, 10:30) of the hour, filter `host H`, targets auto (all three), for
 * each host class — typical (1 of 4,000 clients), heavy (a tenth of all flows), sparse (only on
 * sensor C). The collector (embedded broker, PGlite) and the three agents run as users run them:
 * compiled (`tsc -b shared agent collector`, as `npm run build`), one process each, on this host.
 * DB=postgres puts the collector on the PostgreSQL of scripts/services.sh (PCAPMESH_TEST_DATABASE_URL;
 * a database of its own, dropped after) instead of the embedded PGlite, whose WebAssembly Postgres
 * lives in the collector's own memory.
 *
 * Measured per run: wall time from POST /jobs to the first byte of the merged capture answered
 * (GET …/pcap, Range bytes=0-0 → 206), polling the job every 20 ms; the processes' resident memory
 * when idle before the first job and sampled every 20 ms during the jobs (peak); and where the time
 * went, from the collector's log: submit → tasks dispatched → every upload declared (the agents'
 * extracts) → every task done (uploads) → merged, analysed and signed → downloaded.
 *
 * The manual way, same run, same files: for every file of every sensor
 * `tcpdump -r FILE -w PART '(F) or (vlan and ((F) or (vlan and (F))))'`, then `mergecap -F pcap`,
 * `editcap -A FROM -B TO` (the window) and `editcap -w 0.001` (the duplicates the job removes), over
 * all of each sensor's files (the analyst does not know which hold the window) and, as the
 * strictest reference, over only the files overlapping the window. Packet counts are compared:
 * the job's merged result must hold exactly what the manual way selects.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { captureTimeRange } from '@pcapmesh/shared/pcap/time-range';
import { freePort } from '@pcapmesh/shared/util/testing';
import { dataDir, repoRoot } from './lib/data.js';
import { machine, measure, type Measurement } from './lib/measure.js';
import { DURATION, HOSTS, START, benchSensors, type BenchSensor, type HostClass } from './job-e2e-data.js';

const runs = Number(process.argv[2] ?? 3);
const gib = Number(process.argv[3] ?? 1);
const dbKind = process.argv[4] ?? 'pglite';
if (dbKind !== 'pglite' && dbKind !== 'postgres') throw new Error(`DB must be pglite or postgres, got ${dbKind}`);
const from = START + 1200;
const to = START + 1800;
const work = join(dataDir, 'job-e2e-run');
const token = 'bench-job-e2e-token-0123456789abcdef';
const profile = process.env.JOB_E2E_PROFILE === '1';
const profDir = join(work, 'prof');
/** Node options of the measured processes: with JOB_E2E_PROFILE=1, a CPU profile per thread. */
const nodeFlags = (name: string): string[] => (profile ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, name)}`] : []);
const onlyClasses = process.env.JOB_E2E_CLASSES?.split(',').map((c) => c.trim());
for (const c of onlyClasses ?? []) if (!(c in HOSTS)) throw new Error(`JOB_E2E_CLASSES: unknown host class ${c} (${Object.keys(HOSTS).join(', ')})`);

let stopping = false;

interface Proc {
  name: string;
  child: ChildProcess;
  /** Highest VmRSS sampled while a job ran, KiB. */
  sampledKiB: number;
  /** VmRSS once started and idle (before the first job), KiB. */
  idleKiB: number;
  /** Highest VmRSS sampled during each host class's jobs, KiB. */
  byClass: Record<string, number>;
  /** CPU seconds (user + system, all threads) each job of a host class cost this process. */
  cpuByClass: Record<string, number[]>;
}

/** CPU seconds (utime + stime, every thread) a process has used so far: /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis): utime is 14th, stime 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return Number.NaN;
  }
}
const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** /proc/<pid>/status field in KiB (VmRSS, VmHWM). */
function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function start(name: string, args: string[], logDir: string): Proc {
  const child = spawn(process.execPath, [...nodeFlags(name), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(logDir, `${name}.log`));
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  child.once('exit', (code, signal) => {
    if (!stopping) console.error(`bench: ${name} exited (${signal ?? `code ${code}`}) during the bench; its log: ${join(logDir, `${name}.log`)}`);
  });
  return { name, child, sampledKiB: 0, idleKiB: 0, byClass: {}, cpuByClass: {} };
}

async function api<T>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: T }> {
  const send = () =>
    fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  let res: Response;
  try {
    res = await send();
  } catch (err) {
    // A kept-alive connection the server closed as idle (its 5 s keep-alive timeout; the manual way
    // runs longer than that between jobs) just as this request went out: the request was never read
    // (undici says UND_ERR_SOCKET, or EPIPE when the write itself failed). Once more on a new connection.
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code !== 'UND_ERR_SOCKET' && code !== 'EPIPE') throw err;
    res = await send();
  }
  const text = await res.text();
  let json: T;
  try {
    json = JSON.parse(text) as T;
  } catch {
    json = text as T;
  }
  return { status: res.status, json };
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Builds the compiled collector and agent (what `npm run build` does for them). */
function build(): void {
  console.error('building shared, agent, collector (tsc -b)…');
  const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-b', 'shared', 'agent', 'collector'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (r.status !== 0) console.error(`tsc -b reported errors (output is still emitted):\n${r.stdout.slice(0, 2000)}`);
}

interface JobRun {
  id: string;
  seconds: number;
  packets: number;
  duplicates: number;
}

async function runJob(base: string, host: string, procs: Proc[], cls?: string): Promise<JobRun> {
  const cpuBefore = procs.map((p) => cpuSeconds(p.child.pid!));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const p of procs) p.sampledKiB = Math.max(p.sampledKiB, statusKiB(p.child.pid!, 'VmRSS'));
      await sleep(20);
    }
  })();
  const started = process.hrtime.bigint();
  const submitted = await api<{ job: { id: string } }>(base, 'POST', '/jobs', {
    name: `bench ${host}`,
    window: { from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString() },
    filter: { expression: `host ${host}` },
    targets: { auto: true },
  });
  if (submitted.status !== 201) throw new Error(`submit → ${submitted.status}: ${JSON.stringify(submitted.json)}`);
  const id = submitted.json.job.id;
  const job = await until(
    `job ${id} complete`,
    600_000,
    async () => {
      const r = await api<{ status: string; reason: string | null; result: { packets: number; duplicatesRemoved: number } | null }>(base, 'GET', `/jobs/${id}`);
      if (['failed', 'partial', 'cancelled'].includes(r.json.status)) throw new Error(`job ${id} ended ${r.json.status}: ${r.json.reason}`);
      return r.json.status === 'complete' ? r.json : undefined;
    },
    20,
  );
  const first = await api<string>(base, 'GET', `/jobs/${id}/pcap`, undefined, { range: 'bytes=0-0' });
  if (first.status !== 206) throw new Error(`download of job ${id} → ${first.status}`);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  sampling = false;
  await sampler;
  if (cls) procs.forEach((p, i) => (p.cpuByClass[cls] ??= []).push(cpuSeconds(p.child.pid!) - cpuBefore[i]!));
  return { id, seconds, packets: job.result!.packets, duplicates: job.result!.duplicatesRemoved };
}

/** The manual way as one shell script: tcpdump per file, mergecap, editcap window, editcap dedup; prints the packet count. */
function manualScript(outDir: string, host: string): string {
  const f = `host ${host}`;
  const expr = `(${f}) or (vlan and ((${f}) or (vlan and (${f}))))`;
  return [
    `rm -rf "${outDir}" && mkdir -p "${outDir}" && i=0`,
    `for file in "$@"; do i=$((i+1)); tcpdump -r "$file" -w "${outDir}/part-$i.pcap" '${expr}' 2>/dev/null || exit 1; done`,
    `mergecap -F pcap -w "${outDir}/merged.pcap" "${outDir}"/part-*.pcap`,
    `editcap -F pcap -A ${from} -B ${to} "${outDir}/merged.pcap" "${outDir}/window.pcap"`,
    `editcap -F pcap -w 0.001 "${outDir}/window.pcap" "${outDir}/result.pcap" >/dev/null 2>&1`,
  ].join(' && ');
}

function countPackets(path: string): number {
  const r = spawnSync('capinfos', ['-c', '-M', '-T', '-r', path], { encoding: 'utf8' });
  return Number(r.stdout.trim().split('\t').at(-1));
}

const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const secs = (s: number): string => s.toFixed(s < 0.1 ? 3 : 2);

async function main(): Promise<void> {
  const loadBefore = loadAverage();
  const sensors: BenchSensor[] = benchSensors(gib);
  build();
  rmSync(work, { recursive: true, force: true });
  const logDir = join(work, 'logs');
  mkdirSync(logDir, { recursive: true });
  // The collector's first start writes the generated admin password into its data directory.
  mkdirSync(join(work, 'collector'), { recursive: true });
  const httpPort = await freePort();
  const mqttPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}`;
  const collectorConfig = join(work, 'collector.yaml');
  const database = dbKind === 'postgres' ? await postgresDatabase() : null;
  writeFileSync(
    collectorConfig,
    JSON.stringify({
      dataDir: join(work, 'collector'),
      http: { host: '127.0.0.1', port: httpPort, apiToken: token },
      mqtt: { host: '127.0.0.1', port: mqttPort },
      ...(database ? { database: { url: database.url } } : {}),
      log: { level: 'info' },
    }),
  );
  const collectorMain = join(repoRoot, 'collector/dist/cli/main.js');
  const secrets = sensors.map((s) => {
    const r = spawnSync(process.execPath, [collectorMain, 'sensor', 'add', s.name, '--location', s.location, '--config', collectorConfig], {
      encoding: 'utf8',
    });
    const secret = /^secret:\s*(\S+)\s*$/m.exec(r.stdout)?.[1];
    if (!secret) throw new Error(`sensor add ${s.name}: ${r.stdout}${r.stderr}`);
    return secret;
  });
  const procs: Proc[] = [];
  const stopAll = (): void => {
    stopping = true;
    for (const p of procs) p.child.kill('SIGTERM');
  };
  process.once('exit', stopAll);
  try {
    const collector = start('collector', [collectorMain, 'collector', '--config', collectorConfig], logDir);
    procs.push(collector);
    await until('the collector', 120_000, async () => ((await fetch(`${base}/api/v1/health`)).ok ? true : undefined));
    sensors.forEach((s, i) => {
      const config = join(work, `${s.name}.yaml`);
      writeFileSync(
        config,
        JSON.stringify({
          name: s.name,
          location: s.location,
          collectorUrl: base,
          mqtt: { url: `mqtt://127.0.0.1:${mqttPort}`, password: secrets[i] },
          stateDir: join(work, s.name),
          capture: { enabled: false },
          captures: [{ name: 'ring', directory: s.dir }],
          log: { level: profile ? 'info' : 'warn' },
        }),
      );
      procs.push(start(s.name, [join(repoRoot, 'agent/dist/main.js'), '--config', config], logDir));
    });
    for (const s of sensors) {
      await until(
        `${s.name}'s availability`,
        180_000,
        async () => {
          const r = await api<{ pcap: { sources: { files: number }[] } }>(base, 'GET', `/sensors/${s.name}`);
          return r.json.pcap.sources.some((x) => x.files > 0) ? true : undefined;
        },
        500,
      );
    }
    await sleep(3000);
    for (const p of procs) p.idleKiB = statusKiB(p.child.pid!, 'VmRSS');
    // One job to warm up (code loaded, JIT), not counted.
    await runJob(base, HOSTS.typical, procs);
    for (const p of procs) p.sampledKiB = 0;

    const overlapping = sensors.flatMap((s) =>
      s.files.filter((file) => {
        const { first, last } = captureTimeRange(file);
        return first && last && last.sec >= from && first.sec < to;
      }),
    );
    const all = sensors.flatMap((s) => s.files);
    const rows: string[] = [];
    const phaseRows: string[] = [];
    for (const cls of (onlyClasses ?? Object.keys(HOSTS)) as HostClass[]) {
      const host = HOSTS[cls];
      const jobs: JobRun[] = [];
      const before = procs.map((p) => p.sampledKiB);
      for (const p of procs) p.sampledKiB = 0;
      for (let i = 0; i < runs; i++) jobs.push(await runJob(base, host, procs, cls));
      procs.forEach((p, i) => {
        p.byClass[cls] = p.sampledKiB;
        p.sampledKiB = Math.max(p.sampledKiB, before[i]!);
      });
      phaseRows.push(phaseRow(cls, join(logDir, 'collector.log'), jobs));
      const manualDir = join(work, 'manual');
      const manualAll = measure(`manual, all ${all.length} files`, 'sh', ['-c', manualScript(manualDir, host), 'sh', ...all], { runs });
      const manualPackets = countPackets(join(manualDir, 'result.pcap'));
      const manualWindow = measure(`manual, ${overlapping.length} overlapping files`, 'sh', ['-c', manualScript(manualDir, host), 'sh', ...overlapping], {
        runs,
      });
      const windowPackets = countPackets(join(manualDir, 'result.pcap'));
      const ours = median(jobs.map((j) => j.seconds));
      const same = jobs.every((j) => j.packets === manualPackets) && windowPackets === manualPackets;
      rows.push(row(cls, host, jobs, ours, manualAll, manualWindow, manualPackets, same));
    }
    const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
    const classes = (onlyClasses ?? Object.keys(HOSTS)) as HostClass[];
    const memory = procs.map(
      (p) =>
        `| ${p.name} | ${mib(p.idleKiB)} | ${mib(p.sampledKiB)} | ${classes.map((c) => mib(p.byClass[c] ?? 0)).join(' | ')} | ${mib(statusKiB(p.child.pid!, 'VmHWM'))} |`,
    );
    console.log(
      [
        `### job end to end: 3 sensors × ${gib} GiB/hour, window 10 min, \`host H\`, collector on ${dbKind === 'postgres' ? 'PostgreSQL 15' : 'PGlite (embedded)'}`,
        '',
        `Machine: ${machine()}; load average (1, 5, 15 min) before: ${loadBefore}, after: ${loadAverage()}`,
        '',
        '| host class | job runs (s) | job median s | packets | duplicates removed | manual, all files: median s (runs) | ratio | manual, overlapping files: median s | ratio | same packets |',
        '|---|---|---:|---:|---:|---|---:|---:|---:|---|',
        ...rows,
        '',
        "Where the time went (medians, seconds; from the collector's log): submit → last task dispatched → last upload declared (extracts) → last task done (uploads) → merged, analysed and signed → first byte downloaded:",
        '',
        '| host class | dispatch | extract | upload | merge | download |',
        '|---|---:|---:|---:|---:|---:|',
        ...phaseRows,
        '',
        'CPU seconds (user + system, all threads, /proc/<pid>/stat) per job, median of the runs — steadier than wall time on a shared machine:',
        '',
        `| host class | ${procs.map((p) => p.name).join(' | ')} | all |`,
        `|---|${procs.map(() => '---:|').join('')}---:|`,
        ...classes.map((c) => {
          const per = procs.map((p) => median(p.cpuByClass[c] ?? [Number.NaN]));
          return `| ${c} | ${per.map((x) => x.toFixed(3)).join(' | ')} | ${per.reduce((a, b) => a + b, 0).toFixed(3)} |`;
        }),
        '',
        `| process | RSS idle before the jobs | peak RSS sampled during the jobs | ${classes.map((c) => `peak during ${c}`).join(' | ')} | VmHWM (since start) |`,
        `|---|---:|---:|${classes.map(() => '---:|').join('')}---:|`,
        ...memory,
        '',
        `Data: ${sensors.map((s) => `${s.name} ${s.files.length} files ${(s.bytes / 1e6).toFixed(0)} MB`).join(', ')}; hour ${new Date(START * 1000).toISOString()} + ${DURATION} s.`,
      ].join('\n'),
    );
  } finally {
    stopAll();
    // Each process writes its CPU profiles as it exits: wait for the exits (at most 30 s), not a fixed pause.
    await Promise.race([
      Promise.all(procs.map((p) => (p.child.exitCode !== null || p.child.signalCode !== null ? null : new Promise((r) => p.child.once('exit', r))))),
      sleep(30_000),
    ]);
    if (profile) console.error(`CPU profiles: ${profDir}`);
    await database?.drop();
  }
}

/** A database of its own on the PostgreSQL of scripts/services.sh (PCAPMESH_TEST_DATABASE_URL). */
async function postgresDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.PCAPMESH_TEST_DATABASE_URL;
  if (!admin) throw new Error('DB=postgres needs PCAPMESH_TEST_DATABASE_URL: scripts/services.sh start && eval "$(scripts/services.sh env)"');
  const { default: pg } = await import('pg');
  const name = `pcapmesh_bench_job_${process.pid}`;
  const query = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await query(`CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Seconds between the milestones of one job, from the collector's log (JSON lines, level info). */
interface Phases {
  dispatch: number;
  extract: number;
  upload: number;
  merge: number;
  download: number;
}

function phasesOf(logFile: string, jobId: string): Phases | null {
  const at: Record<string, number[]> = {};
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes(jobId)) continue;
    let entry: { time?: string; msg?: string };
    try {
      entry = JSON.parse(line) as { time?: string; msg?: string };
    } catch {
      continue;
    }
    if (entry.time && entry.msg) (at[entry.msg] ??= []).push(Date.parse(entry.time));
  }
  const first = (m: string) => Math.min(...(at[m] ?? [Number.NaN]));
  const last = (m: string) => Math.max(...(at[m] ?? [Number.NaN]));
  const t = [
    first('job submitted'),
    last('task dispatched'),
    last('upload declared'),
    last('task done'),
    first('job results merged, analysed and signed'),
    first('result downloaded'),
  ];
  if (t.some((x) => !Number.isFinite(x))) return null;
  const d = (i: number) => (t[i + 1]! - t[i]!) / 1000;
  return { dispatch: d(0), extract: d(1), upload: d(2), merge: d(3), download: d(4) };
}

function phaseRow(cls: string, logFile: string, jobs: JobRun[]): string {
  const all = jobs.map((j) => phasesOf(logFile, j.id)).filter((p): p is Phases => p !== null);
  if (all.length === 0) return `| ${cls} | (no log lines) | | | | |`;
  const m = (k: keyof Phases) => secs(median(all.map((p) => p[k])));
  return `| ${cls} | ${m('dispatch')} | ${m('extract')} | ${m('upload')} | ${m('merge')} | ${m('download')} |`;
}

function row(cls: string, host: string, jobs: JobRun[], ours: number, all: Measurement, window: Measurement, packets: number, same: boolean): string {
  return `| ${cls} (\`${host}\`) | ${jobs.map((j) => secs(j.seconds)).join(' / ')} | ${secs(ours)} | ${jobs[0]!.packets} | ${jobs[0]!.duplicates} | ${secs(all.seconds)} (${all.runs.map(secs).join(' / ')}) | **${(all.seconds / ours).toFixed(1)}×** | ${secs(window.seconds)} | ${(window.seconds / ours).toFixed(1)}× | ${same ? `yes (${packets})` : `**NO** (manual ${packets})`} |`;
}

await main();
