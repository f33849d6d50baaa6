/**
 * Jobs belong to the principal's stable id, not its name (over the real app and jobs stack):
 * an API token deleted and re-created under the same name — another credential, maybe another
 * person's — touches none of the old token's jobs, while the jobs keep showing `token:<label>`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import { availableSensor, pastWindow } from '../jobs.fixture.js';

let t: TestHttp;
let sensor: string;
let admin: string;

before(async () => {
  t = await createTestHttp();
  admin = await t.accessTokenOf('admin1');
  sensor = await availableSensor(t, { location: 'lab' });
});
after(() => t.close());

async function call(bearer: string, method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  return t.app.request(`${API_PREFIX}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

async function analystToken(name: string): Promise<string> {
  const res = await call(admin, 'POST', '/admin/api-tokens', { name, role: 'analyst' });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { token: string }).token;
}

test('an API token re-created under the same name owns none of the old one’s jobs; the jobs still show token:<label>', async () => {
  const w = pastWindow();
  const submit = { window: { from: w.from.toISOString(), to: w.to.toISOString() }, filter: { expression: 'tcp' }, targets: { sensors: [sensor] } };
  const first = await analystToken('ci');
  const jobs: { id: string; owner: string; ownerId: string | null }[] = [];
  for (let i = 0; i < 2; i += 1) {
    const res = await call(first, 'POST', '/jobs', submit);
    assert.equal(res.status, 201);
    jobs.push(((await res.json()) as { job: { id: string; owner: string; ownerId: string | null } }).job);
  }
  const [row] = await t.db.query<{ id: number }>("SELECT id FROM api_tokens WHERE name = 'ci'");
  assert.deepEqual(
    jobs.map((j) => [j.owner, j.ownerId]),
    [
      ['token:ci', `token:${row!.id}`],
      ['token:ci', `token:${row!.id}`],
    ],
  );
  assert.equal((await call(first, 'POST', `/jobs/${jobs[0]!.id}/cancel`)).status, 200, 'its own job');

  assert.equal((await call(admin, 'DELETE', '/admin/api-tokens/ci')).status, 204);
  const second = await analystToken('ci');
  const refused = await call(second, 'POST', `/jobs/${jobs[1]!.id}/cancel`);
  assert.equal(refused.status, 403, 'same name, another principal');
  assert.match(((await refused.json()) as { error: { message: string } }).error.message, /belongs to token:ci: only its owner or an admin/);
  assert.equal((await call(second, 'DELETE', `/jobs/${jobs[1]!.id}`)).status, 403);
  const shown = (await (await call(admin, 'GET', `/jobs/${jobs[1]!.id}`)).json()) as { owner: string; status: string };
  assert.deepEqual([shown.owner, shown.status], ['token:ci', 'running'], 'the old job keeps its name and stays open');
  assert.equal((await call(admin, 'DELETE', `/jobs/${jobs[1]!.id}`)).status, 204);
});
