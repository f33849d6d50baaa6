/**
 * Fault suite, captures (issue 14): mutated captures through info, index, extract, merge and
 * analyze. Each operation ends within 5 s with a result or a clear error — in the library a
 * CaptureFormatError (naming the file and the damage), never another exception; from the built
 * `pcapmesh-pcap` command an exit status 0/1 with a message naming the file, never a signal, a stack
 * trace or a hang — and memory stays bounded (the library runs in a worker thread with a 256 MiB
 * heap limit; a hang or an out-of-memory names the case that did it).
 *
 * CI form: 300 mutations in-process, a sample of 10 through the command. Long form (bench/faults.ts,
 * FAULTS_LONG=1): 10,000 and 200. FAULTS_CAPTURES / FAULTS_CAPTURES_CLI override.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '@pcapmesh/shared/util/testing';
import { startModuleWorker } from '@pcapmesh/shared/util/worker';
import { makeSeeds, mutate, prng, type Seed } from './lib/capture-fuzz.js';
import type { OpResult, WorkerInput } from './lib/capture-worker.js';
import { figure, sized } from './lib/world.js';

const CASES = sized('FAULTS_CAPTURES', 300, 10_000);
const CLI_CASES = sized('FAULTS_CAPTURES_CLI', 10, 200);
const BATCH = 250;
const OP_DEADLINE_MS = 5_000;
const HEAP_LIMIT_MIB = 256;
const SEED = 0x14_cab;
const PCAP_BIN = join(repoRoot, 'shared/bin/pcapmesh-pcap.js');

interface Case {
  i: number;
  file: string;
  label: string;
}

function writeCases(dir: string, seeds: Seed[], from: number, to: number): Case[] {
  const out: Case[] = [];
  for (let i = from; i < to; i++) {
    const rand = prng(SEED + i);
    const seed = seeds[Math.floor(rand() * seeds.length)]!;
    const { label, bytes } = mutate(seed, rand);
    const file = join(dir, `case-${i}.${seed.format}`);
    writeFileSync(file, bytes);
    out.push({ i, file, label: `#${i} ${seed.name}: ${label}` });
  }
  return out;
}

/** Runs one batch in a worker; rejects naming the case on a hang or out-of-memory. */
function runBatch(dir: string, cases: Case[], partner: string): Promise<{ c: Case; results: OpResult[] }[]> {
  return new Promise((resolve, reject) => {
    const input: WorkerInput = { dir, cases: cases.map((c) => ({ file: c.file, label: c.label })), partner };
    const worker = startModuleWorker(new URL('./lib/capture-worker.js', import.meta.url), {
      workerData: input,
      resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MIB, maxYoungGenerationSizeMb: 32 },
    });
    const done: { c: Case; results: OpResult[] }[] = [];
    let current = -1;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        void worker.terminate();
        reject(
          new Error(
            `hang: no result within ${ms} ms for ${current >= 0 ? cases[current]!.label : 'worker start'} (${current >= 0 ? cases[current]!.file : ''})`,
          ),
        );
      }, ms);
    };
    arm(120_000); // start-up (tsx in the thread) on a loaded machine
    worker.on('message', (m: { kind: 'start' | 'done'; i: number; results?: OpResult[] }) => {
      current = m.i;
      if (m.kind === 'start') arm(OP_DEADLINE_MS * 5 * 2);
      else done.push({ c: cases[m.i]!, results: m.results! });
    });
    worker.on('error', (err) => {
      clearTimeout(watchdog);
      reject(
        new Error(`worker died (${(err as NodeJS.ErrnoException).code ?? err.message}) at ${current >= 0 ? cases[current]!.label : 'start'}`, { cause: err }),
      );
    });
    worker.on('exit', () => {
      clearTimeout(watchdog);
      if (done.length === cases.length) resolve(done);
      else reject(new Error(`worker exited after ${done.length} of ${cases.length} cases, at ${cases[current]?.label ?? 'start'}`));
    });
  });
}

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stderr: string;
  timedOut: boolean;
}

/** Runs the built command as users do (bin launcher), its whole process group killed at the deadline. */
function runCli(args: string[], deadlineMs: number): Promise<CliRun> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [PCAP_BIN, ...args], { cwd: repoRoot, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 20_000) stderr += d.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, deadlineMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started, stderr, timedOut });
    });
  });
}

test(
  `captures: ${CASES} mutated captures through info, index, extract, merge and analyze end with a result or a clear error`,
  { timeout: 3_600_000 },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-faults-captures-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const seeds = makeSeeds(dir);
    const partner = join(dir, 'eth-us.pcap');
    const tally: Record<string, Record<string, number>> = {};
    const slow: string[] = [];
    const crashes: string[] = [];
    let maxMs = 0;
    const started = Date.now();

    for (let from = 0; from < CASES; from += BATCH) {
      const batchDir = mkdtempSync(join(dir, 'batch-'));
      const cases = writeCases(batchDir, seeds, from, Math.min(CASES, from + BATCH));
      for (const { c, results } of await runBatch(batchDir, cases, partner)) {
        for (const r of results) {
          (tally[r.op] ??= {})[r.outcome] = (tally[r.op]![r.outcome] ?? 0) + 1;
          maxMs = Math.max(maxMs, r.ms);
          if (r.outcome === 'crash') crashes.push(`${r.op} on ${c.label}: ${r.message}`);
          if (r.ms > OP_DEADLINE_MS) slow.push(`${r.op} on ${c.label}: ${Math.round(r.ms)} ms`);
        }
      }
      rmSync(batchDir, { recursive: true, force: true });
    }
    const libraryMs = Date.now() - started;
    assert.deepEqual(crashes.slice(0, 5), [], `${crashes.length} operations threw something other than a CaptureFormatError`);
    assert.deepEqual(slow, [], 'operations over 5 s');
    assert.ok((tally.info?.refused ?? 0) > 0 && (tally.info?.ok ?? 0) > 0, `both damaged-but-readable and refused files occur: ${JSON.stringify(tally.info)}`);

    // A sample through the built command, as users run it. The deadline adds the command's own start-up
    // (measured now, with --help) to the 5 s: on a loaded machine node alone can take seconds to start.
    const startup = (await runCli(['--help'], 60_000)).ms;
    const deadline = OP_DEADLINE_MS + 2 * startup;
    const cliDir = mkdtempSync(join(dir, 'cli-'));
    const sample = writeCases(cliDir, seeds, CASES, CASES + CLI_CASES);
    const problems: string[] = [];
    const cliTally: Record<string, number> = {};
    let cliMaxMs = 0;
    for (const c of sample) {
      const out = join(cliDir, 'out.pcap');
      const runs: [string, string[]][] = [
        ['info', ['info', c.file]],
        ['index', ['index', '--settle', '0', '--force', c.file]],
        ['extract', ['extract', '--no-index', '--workers', '0', '-f', 'tcp', '-o', out, c.file]],
        ['merge', ['merge', '-o', out, c.file, partner]],
        ['analyze', ['analyze', c.file]],
      ];
      for (const [op, args] of runs) {
        const r = await runCli(args, deadline);
        cliMaxMs = Math.max(cliMaxMs, r.ms);
        const key = `${op}:${r.timedOut ? 'timeout' : (r.signal ?? r.code)}`;
        cliTally[key] = (cliTally[key] ?? 0) + 1;
        const what = `pcapmesh-pcap ${op} on ${c.label}`;
        if (r.timedOut) problems.push(`${what}: no end within ${deadline} ms`);
        else if (r.signal !== null) problems.push(`${what}: killed by ${r.signal}`);
        else if (r.code !== 0 && r.code !== 1) problems.push(`${what}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
        else if (/^\s+at .+:\d+:\d+\)?$/m.test(r.stderr)) problems.push(`${what}: a stack trace on stderr: ${r.stderr.slice(0, 500)}`);
        else if (r.code === 1 && !r.stderr.includes(`case-${c.i}`)) problems.push(`${what}: exit 1 without naming the file: ${r.stderr.slice(0, 300)}`);
      }
    }
    assert.deepEqual(problems, [], 'the command on damaged captures');
    figure('captures', {
      cases: CASES,
      library: tally,
      libraryMs,
      maxOpMs: Math.round(maxMs),
      heapLimitMiB: HEAP_LIMIT_MIB,
      cli: { cases: CLI_CASES, outcomes: cliTally, startupMs: startup, maxMs: cliMaxMs },
    });
  },
);
