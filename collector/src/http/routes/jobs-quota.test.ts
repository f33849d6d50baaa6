/**
 * The per-user quotas of /jobs under concurrent requests, over the real app and jobs stack
 * (createTestHttp): the daily download byte quota holds when one user's downloads arrive at once.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import { availableSensor, completedJob } from '../jobs.fixture.js';

let t: TestHttp;
let sensor: string;
const bearer: Record<string, string> = {};

before(async () => {
  // 350 bytes a day: three 100-byte ranges fit, a fourth does not.
  t = await createTestHttp({ jobs: { quota: { bytesPerDay: 350 } } });
  for (const username of ['analyst1']) bearer[username] = await t.accessTokenOf(username);
  sensor = await availableSensor(t, { location: 'lab' });
});
after(() => t.close());

function call(as: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(t.app.request(`${API_PREFIX}${path}`, { method, headers: { ...headers, authorization: `Bearer ${bearer[as]}` } }));
}

test('concurrent downloads of one user: the daily byte quota holds (the rest get 429 naming jobs.quota.bytesPerDay)', async () => {
  const job = await completedJob(t, { name: 'analyst1', role: 'analyst' }, [sensor]);
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
