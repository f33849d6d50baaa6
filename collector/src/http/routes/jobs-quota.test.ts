/**
 * The per-user quotas of /jobs under concurrent requests, over the real app and jobs stack
 * (createTestHttp): the daily download byte quota holds when one user's downloads arrive at once;
 * dry runs are limited per user (each asks every online sensor for an estimate).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import { availableSensor, completedJob, pastWindow } from '../jobs.fixture.js';

let t: TestHttp;
let sensor: string;
const bearer: Record<string, string> = {};

before(async () => {
  // 350 bytes a day: three 100-byte ranges fit, a fourth does not. Two dry runs a minute.
  t = await createTestHttp({ jobs: { quota: { bytesPerDay: 350, dryRunsPerMinute: 2 }, dryRunTimeoutMs: 100 } });
  for (const username of ['analyst1', 'analyst2']) bearer[username] = await t.accessTokenOf(username);
  sensor = await availableSensor(t, { location: 'lab' });
});
after(() => t.close());

function call(as: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Response> {
  const init = {
    method,
    headers: { ...headers, authorization: `Bearer ${bearer[as]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
  };
  return Promise.resolve(t.app.request(`${API_PREFIX}${path}`, body === undefined ? init : { ...init, body: JSON.stringify(body) }));
}

test('concurrent downloads of one user: the daily byte quota holds (the rest get 429 naming jobs.quota.bytesPerDay)', async () => {
  const job = await completedJob(t, 'analyst1', [sensor]);
  const answers = await Promise.all(Array.from({ length: 16 }, () => call('analyst1', 'GET', `/jobs/${job.id}/pcap`, { range: 'bytes=0-99' })));
  const bodies = await Promise.all(
    answers.map(async (res) => ({
      status: res.status,
      text: res.status === 206 ? '' : await res.text(),
      bytes: res.status === 206 ? (await res.arrayBuffer()).byteLength : 0,
    })),
  );
  assert.deepEqual(bodies.map((b) => b.status).sort(), [...Array<number>(3).fill(206), ...Array<number>(13).fill(429)]);
  for (const b of bodies.filter((x) => x.status === 429)) {
    const { error } = JSON.parse(b.text) as { error: { message: string } };
    assert.match(error.message, /exceeds jobs\.quota\.bytesPerDay \(350\): 300 bytes downloaded in the last 24 h/);
  }
  const [row] = await t.db.query<{ n: number }>('SELECT coalesce(sum(bytes), 0)::bigint AS n FROM job_downloads WHERE job_id = $1', [job.id]);
  assert.equal(Number(row?.n), 300, 'what was counted is what was served');
});

test('dry runs beyond jobs.quota.dryRunsPerMinute get 429 naming the limit; another user is not held back', async () => {
  const w = pastWindow();
  const body = { window: { from: w.from.toISOString(), to: w.to.toISOString() }, filter: { expression: 'tcp' }, targets: { sensors: [sensor] }, dryRun: true };
  const answers = await Promise.all(Array.from({ length: 4 }, () => call('analyst1', 'POST', '/jobs', {}, body)));
  assert.deepEqual(answers.map((r) => r.status).sort(), [200, 200, 429, 429]);
  const refused = answers.find((r) => r.status === 429)!;
  const { error } = (await refused.json()) as { error: { message: string } };
  assert.match(error.message, /analyst1 made 2 dry runs in the last minute; jobs\.quota\.dryRunsPerMinute allows 2/);
  assert.equal((await call('analyst2', 'POST', '/jobs', {}, body)).status, 200);
});
