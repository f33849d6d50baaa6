/**
 * `pcapmesh job …` spawned against the real collector HTTP app (createTestHttp: real JobsService,
 * ResultsService, uploads, manifest signing) served on an ephemeral port, with the fixture's
 * API token in a file. The test process plays the sensors' agents where a job must finish.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Actor } from '../domain/accounts/roles.js';
import type { JobDetail } from '../domain/jobs/jobs.types.js';
import { createTestHttp, type TestHttp } from '../http/app.fixture.js';
import { API_PREFIX } from '../http/app.js';
import { availableSensor, completedJob, finishJob, pastWindow, tokenActor } from '../http/jobs.fixture.js';
import { startHttpServer, type HttpServer } from '../http/server.js';
import { pollDelayMs } from './job.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
/** The fixture's API token is an admin's, labelled "test": jobs it submits belong to it (shown as token:test). */
let OWNER: Actor;

let t: TestHttp;
let server: HttpServer;
let dir: string;
let tokenFile: string;
let sensor: string;

before(async () => {
  t = await createTestHttp();
  OWNER = await tokenActor(t);
  server = await startHttpServer(t.app, { host: '127.0.0.1', port: 0, log: pino({ level: 'silent' }) });
  dir = mkdtempSync(join(tmpdir(), 'pcapmesh-job-cli-'));
  tokenFile = join(dir, 'api-token');
  writeFileSync(tokenFile, `${t.token}\n`, { mode: 0o600 });
  sensor = await availableSensor(t, { location: 'lab' });
});
after(async () => {
  await server.close();
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `pcapmesh job ARGS --url … --token-file …`; `onStdout` may act while it runs. */
function job(args: string[], opts: { connect?: boolean; onStdout?: (text: string) => void } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PCAPMESH_DATA_DIR: dir, PCAPMESH_LOG__LEVEL: 'warn' };
  const connection = opts.connect === false ? [] : ['--url', server.url, '--token-file', tokenFile];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=pcapmesh-src', '--import', import.meta.resolve('tsx'), MAIN, 'job', ...args, ...connection], {
      env,
      cwd: dir,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const window = () => {
  const w = pastWindow();
  return ['--from', w.from.toISOString(), '--to', String(w.to.getTime())];
};

test('submit --dry-run prints the plan per sensor and creates nothing; --json gives the plan', async () => {
  const run = await job(['submit', ...window(), '--host', '10.0.0.1', '--port', '443', '--protocol', 'tcp', '--sensors', sensor, '--dry-run']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^filter +host 10\.0\.0\.1 and tcp port 443 and tcp$/m);
  assert.match(run.stdout, new RegExp(`^${sensor} +lab +online +100% .* yes`, 'm'));
  const json = await job(['submit', ...window(), '--filter', 'udp', '--locations', 'lab', '--dry-run', '--json']);
  assert.equal(json.code, 0, json.stderr);
  const { plan } = JSON.parse(json.stdout) as { plan: { filter: string; sensors: { sensor: string }[] } };
  assert.equal(plan.filter, 'udp');
  assert.ok(plan.sensors.some((s) => s.sensor === sensor));
  assert.equal((await t.jobs.jobs.service.list(OWNER, { limit: 10 })).jobs.length, 0, 'a dry run creates no job');
});

test('a filter the collector refuses exits 2 with its position; bad usage exits 2 naming the flag', async () => {
  const bad = await job(['submit', ...window(), '--filter', 'tcp port', '--sensors', sensor]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^pcapmesh: .*at 8\b/m);
  const noTarget = await job(['submit', ...window(), '--filter', 'tcp'], { connect: false });
  assert.equal(noTarget.code, 2);
  assert.match(noTarget.stderr, /exactly one of --sensors a,b {2}--locations X,Y {2}--auto/);
  const stray = await job(['list', '--sensors', 'x'], { connect: false });
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /job list does not take --sensors/);
});

test('submit --wait shows progress, saves the merged capture with -o, and list/show name the job', async () => {
  const output = join(dir, 'waited.pcap');
  let played: Promise<JobDetail> | undefined;
  const run = await job(['submit', ...window(), '--filter', 'tcp or udp', '--sensors', sensor, '--name', 'cli wait', '--wait', '-o', output], {
    onStdout: (text) => {
      const id = /^submitted job (\S+)$/m.exec(text)?.[1];
      if (id && !played) played = finishJob(t, OWNER, id); // the sensor's agent, played here
    },
  });
  assert.equal(run.code, 0, run.stderr);
  const done = await played!;
  assert.match(run.stderr, /^(pending|running|merging): \d\/1 tasks/m, 'plain progress lines (not a TTY)');
  assert.match(run.stderr, /^complete: 1\/1 tasks/m);
  assert.match(run.stdout, new RegExp(`job ${done.id} complete`));
  const saved = readFileSync(output);
  assert.equal(createHash('sha256').update(saved).digest('hex'), done.result!.sha256);

  const list = await job(['list', '--status', 'complete']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`^${done.id} +complete +token:test .* 1/1 .* cli wait$`, 'm'));
  const show = await job(['show', done.id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`^sha256 +${done.result!.sha256}$`, 'm'));
  assert.match(show.stdout, new RegExp(`^${done.taskList[0]!.id} +${sensor} +done `, 'm'));
});

test('download resumes a partial file with Range and checks the SHA-256; --task gets one sensor’s result', async () => {
  const done = await completedJob(t, OWNER, [sensor]);
  const whole = Buffer.from(
    await (await t.app.request(`${API_PREFIX}/jobs/${done.id}/pcap`, { headers: { authorization: `Bearer ${t.token}` } })).arrayBuffer(),
  );
  const partial = join(dir, 'partial.pcap');
  writeFileSync(partial, whole.subarray(0, 100));
  const resumed = await job(['download', done.id, '-o', partial]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resumed at 100/);
  assert.deepEqual(readFileSync(partial), whole);
  const again = await job(['download', done.id, '-o', partial]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(readFileSync(partial), whole, 'a complete file stays as it is');

  const task = done.taskList[0]!;
  const own = await job(['download', done.id, '--task', sensor]);
  assert.equal(own.code, 0, own.stderr);
  const name = /^saved (\S+):/m.exec(own.stdout)?.[1];
  assert.ok(name, own.stdout);
  assert.equal(
    createHash('sha256')
      .update(readFileSync(join(dir, name)))
      .digest('hex'),
    task.result!.sha256,
  );
});

test('verify: valid evidence exits 0 (offline with --key, or fetching the key); a tampered file or manifest exits 1 naming the problem', async () => {
  const done = await completedJob(t, OWNER, [sensor]);
  const get = (path: string) => t.app.request(`${API_PREFIX}${path}`, { headers: { authorization: `Bearer ${t.token}` } });
  const result = join(dir, 'evidence.pcap');
  writeFileSync(result, Buffer.from(await (await get(`/jobs/${done.id}/pcap`)).arrayBuffer()));
  const jws = await (await get(`/jobs/${done.id}/manifest?format=jws`)).text();
  const manifest = join(dir, 'evidence.jws');
  writeFileSync(manifest, jws);
  const keys = join(dir, 'jwks.json');
  writeFileSync(keys, await (await get('/jobs/manifest-key')).text());

  const offline = await job(['verify', manifest, result, '--key', keys], { connect: false });
  assert.equal(offline.code, 0, offline.stdout + offline.stderr);
  assert.match(offline.stdout, /^VALID: signed by key \S+; the file is the merged capture$/m);
  const online = await job(['verify', manifest, result, '--url', server.url], { connect: false });
  assert.equal(online.code, 0, online.stdout + online.stderr);

  const tampered = join(dir, 'tampered.pcap');
  const bytes = readFileSync(result);
  bytes[bytes.length - 1]! ^= 0x01;
  writeFileSync(tampered, bytes);
  const badFile = await job(['verify', manifest, tampered, '--key', keys], { connect: false });
  assert.equal(badFile.code, 1);
  assert.match(badFile.stdout, /^NOT VALID:\n {2}file-hash: .*tampered\.pcap/m);

  const [header, payload, signature] = jws.split('.');
  const altered = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { requester: string };
  altered.requester = 'someone else';
  const forged = join(dir, 'forged.jws');
  writeFileSync(forged, `${header}.${Buffer.from(JSON.stringify(altered)).toString('base64url')}.${signature}`);
  const badSig = await job(['verify', forged, result, '--key', keys], { connect: false });
  assert.equal(badSig.code, 1);
  assert.match(badSig.stdout, /^ {2}signature: the signature does not verify/m);
});

test('cancel stops an open job', async () => {
  const submitted = await job(['submit', ...window(), '--filter', 'tcp', '--sensors', sensor, '--json']);
  assert.equal(submitted.code, 0, submitted.stderr);
  const { job: created } = JSON.parse(submitted.stdout) as { job: { id: string; status: string } };
  assert.equal(created.status, 'running');
  const cancelled = await job(['cancel', created.id]);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.equal(cancelled.stdout, `job ${created.id} cancelled\n`);
  const unknown = await job(['show', '0190a3c4-1111-7000-8000-00000000abcd']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /not found \(HTTP 404\)/);
});

test('--wait looks at the job after 50 ms, then doubling to once a second', () => {
  assert.deepEqual(
    Array.from({ length: 8 }, (_, n) => pollDelayMs(n)),
    [50, 100, 200, 400, 800, 1000, 1000, 1000],
  );
});
