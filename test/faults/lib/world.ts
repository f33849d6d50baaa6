/**
 * Helpers the fault tests share on top of the integration harness (test/integration/harness.ts):
 * sensors enrolled through the API, a process' resident memory, sizes of the long and CI forms,
 * and a figure line each test prints (the bench collects them).
 */
import { readFileSync } from 'node:fs';
import type { Collector } from '../../integration/harness.js';
import { JobsClient } from '../../integration/harness/jobs-api.js';

/** True for the long form (bench/faults.ts sets FAULTS_LONG=1); the CI form otherwise. */
export function longForm(): boolean {
  return process.env.FAULTS_LONG === '1';
}

/** A size of the CI form or of the long form; env `name` overrides both. */
export function sized(name: string, ci: number, long: number): number {
  const raw = process.env[name];
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
    return n;
  }
  return longForm() ? long : ci;
}

/**
 * Registers sensors through the API (POST /admin/sensors, then /enroll with the enrolment token)
 * and returns their secrets. Faster than `pcapmesh sensor add` (a process each) and works while
 * the collector runs on PGlite.
 */
export async function enrolSensors(collector: Collector, names: readonly string[], location = 'lab'): Promise<Map<string, string>> {
  const admin = new JobsClient(collector.api.baseUrl, collector.apiToken);
  const secrets = new Map<string, string>();
  for (const name of names) {
    const { enrolment } = await admin.expect<{ enrolment: { token: string } }>(201, 'POST', '/admin/sensors', { name, location });
    const { secret } = await admin.expect<{ secret: string }>(200, 'POST', '/enroll', { token: enrolment.token });
    secrets.set(name, secret);
  }
  return secrets;
}

/** Resident memory of a live process in MiB (/proc/<pid>/status VmRSS). */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/**
 * Prints a figure of a fault test as one JSON line (`FAULT-FIGURE {...}`) on stdout: the test
 * diagnostics of node:test and bench/faults.ts pick them up. Timings are reported, never asserted.
 */
export function figure(test: string, values: Record<string, unknown>): void {
  console.log(`FAULT-FIGURE ${JSON.stringify({ test, loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '), ...values })}`);
}
