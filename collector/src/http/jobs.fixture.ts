/**
 * Test fixture: a capture job taken all the way through the real jobs stack of createTestHttp —
 * a sensor born with availability over the window, the job submitted through JobsService, each
 * task accepted and scanning as its agent would report, its capture uploaded through the real
 * UploadService (declare + one chunk, SHA-256 checked) and then merged, analysed and signed by
 * ResultsService. What tests of the /jobs routes and `pcapmesh job` read and download.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeCapture } from '@pcapmesh/shared/pcap';
import { SCHEMA_VERSION, type TaskStatusMessage } from '@pcapmesh/shared/wire';
import { pino } from 'pino';
import type { Actor } from '../domain/accounts/roles.js';
import type { JobDetail } from '../domain/jobs/jobs.types.js';
import { UploadService } from '../domain/jobs/uploads.service.js';
import { birth, pcap, uniqueName } from '../domain/sensors/sensors.fixture.js';
import type { TestHttp } from './app.fixture.js';

const MINUTE = 60_000;
let seq = 1_000;

/** The fixture user `username` (admin1, analyst1, …) as the domain sees it once signed in: `user:{id}`. */
export async function userActor(t: TestHttp, username: string): Promise<Actor> {
  const [row] = await t.db.query<{ id: number; role: Actor['role'] }>('SELECT id, role FROM users WHERE username = $1', [username]);
  if (!row) throw new Error(`fixture: no user ${username}`);
  return { id: `user:${row.id}`, name: username, role: row.role };
}

/** The fixture's API token (`t.token`, an admin's, labelled "test") as the domain sees it: `token:{id}`, shown as token:test. */
export async function tokenActor(t: TestHttp): Promise<Actor> {
  const [row] = await t.db.query<{ id: number }>("SELECT id FROM api_tokens WHERE name = 'test'");
  if (!row) throw new Error('fixture: no API token "test"');
  return { id: `token:${row.id}`, name: 'token:test', role: 'admin' };
}

const actorFor = (t: TestHttp, owner: Actor | string): Promise<Actor> => (typeof owner === 'string' ? userActor(t, owner) : Promise.resolve(owner));

/** A sensor that is online and reports captures covering the last two hours. */
export async function availableSensor(t: TestHttp, opts: { location?: string } = {}): Promise<string> {
  const name = uniqueName('edge');
  const now = Date.now();
  await t.sensors.register({ name, ...(opts.location !== undefined ? { location: opts.location } : {}) });
  await t.sensors.ingestState(name, birth(1, (seq += 1)));
  const at = (ms: number) => ({ sec: Math.floor(ms / 1000), nsec: 0 });
  await t.sensors.ingestPcap(
    name,
    pcap((seq += 1), [
      { name: 'eth0', directory: '/data/pcap', oldest: at(now - 120 * MINUTE), newest: at(now), files: 12, bytes: 1 << 20, gaps: [], problems: [] },
    ]),
  );
  return name;
}

/** A past window inside every availableSensor's span: [now − 30 min, now − 20 min). */
export function pastWindow(): { from: Date; to: Date } {
  const now = Date.now();
  return { from: new Date(now - 30 * MINUTE), to: new Date(now - 20 * MINUTE) };
}

function status(taskId: string, s: TaskStatusMessage['status']): TaskStatusMessage {
  return { v: SCHEMA_VERSION, sentAt: Date.now(), seq: (seq += 1), taskId, attempt: 0, status: s };
}

/**
 * Submits a job over `sensors` as `owner` (an Actor, or a fixture username: userActor), plays each
 * sensor's agent (finishJob) and returns it complete.
 */
export async function completedJob(t: TestHttp, ownerOrUsername: Actor | string, sensors: string[], opts: { name?: string } = {}): Promise<JobDetail> {
  const owner = await actorFor(t, ownerOrUsername);
  const window = pastWindow();
  const ns = (d: Date) => BigInt(d.getTime()) * 1_000_000n;
  const { job } = await t.jobs.jobs.service.submit(owner, {
    ...(opts.name !== undefined ? { name: opts.name } : {}),
    window: { from: ns(window.from), to: ns(window.to) },
    filter: { expression: 'tcp or udp' },
    targets: { sensors },
  });
  if (job === null) throw new Error('fixture: submit returned no job');
  return finishJob(t, owner, job.id);
}

/**
 * Plays the agent of every task of job `id` (however it was submitted): accepted, scanning, the
 * upload of a generated capture inside the window; waits until the job is merged: complete.
 */
export async function finishJob(t: TestHttp, ownerOrUsername: Actor | string, id: string): Promise<JobDetail> {
  const owner = await actorFor(t, ownerOrUsername);
  const job = await t.jobs.jobs.service.get(owner, id);
  const windowFrom = Date.parse(job.window.from);
  const uploads = new UploadService({
    db: t.db,
    directory: t.resultsDir,
    maxBytes: 1 << 30,
    chunkMaxBytes: 64 << 20,
    log: pino({ level: 'silent' }),
    onTaskUploaded: async (taskId, result) => void (await t.jobs.jobs.service.taskUploaded(taskId, result)),
    onTaskFailed: async (taskId, reason) => {
      throw new Error(`fixture: the upload of task ${taskId} failed: ${reason}`);
    },
  });
  for (const [i, task] of job.taskList.entries()) {
    for (const s of ['accepted', 'scanning'] as const) {
      const outcome = await t.jobs.jobs.service.ingestTaskStatus(task.sensor, task.id, status(task.id, s));
      if (outcome !== 'applied') throw new Error(`fixture: task ${task.id} ${s} was not applied (${outcome})`);
    }
    const file = join(t.resultsDir, `fixture-${task.id}.pcap`);
    const summary = writeCapture(file, { seed: 7 + i, packets: 200, start: Math.floor(windowFrom / 1000) + 60, duration: 120 });
    const bytes = readFileSync(file);
    rmSync(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const who = { taskId: task.id, jobId: job.id, sensor: task.sensor };
    await uploads.declare(who, { size: bytes.length, sha256, packets: summary.packets, bytes: bytes.length - 24, truncated: null });
    await uploads.chunk(
      who,
      { start: 0, end: bytes.length - 1, size: bytes.length },
      sha256,
      (async function* () {
        yield new Uint8Array(bytes);
      })(),
    );
  }
  await t.jobs.jobs.service.settled();
  const done = await t.jobs.jobs.service.get(owner, job.id);
  if (done.status !== 'complete') throw new Error(`fixture: job ${job.id} ended ${done.status} (${done.reason ?? 'no reason'})`);
  return done;
}
