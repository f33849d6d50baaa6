/**
 * GET /jobs/{id}/packets and /jobs/{id}/packets/{n} over the real app and jobs stack (createTestHttp):
 * a job completed through the real upload and merge, its result decoded on the collector.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture, timestampToDecimal } from '@pcapmesh/shared/pcap';
import { summarizePacket } from '@pcapmesh/shared/pcap/dissect';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import { availableSensor, completedJob } from '../jobs.fixture.js';
import type { JobDetail } from '../../domain/jobs/jobs.types.js';
import { packetDetailSchema, packetPageSchema } from './job-packets.js';

let t: TestHttp;
let job: JobDetail;
const bearer: Record<string, string> = {};

before(async () => {
  t = await createTestHttp();
  for (const username of ['admin1', 'analyst1', 'viewer1']) bearer[username] = await t.accessTokenOf(username);
  const sensors = [await availableSensor(t, { location: 'lab' }), await availableSensor(t, { location: 'lab' })];
  job = await completedJob(t, 'analyst1', sensors, { name: 'packets' });
});
after(() => t.close());

async function get(as: string, path: string): Promise<{ status: number; body: unknown }> {
  const res = await t.app.request(`${API_PREFIX}${path}`, { headers: { authorization: `Bearer ${bearer[as]}` } });
  return { status: res.status, body: await res.json() };
}

function mergedPath(): string {
  const dir = join(t.resultsDir, job.id);
  return ['merged.pcap', 'merged.pcapng'].map((f) => join(dir, f)).find((p) => existsSync(p)) as string;
}

test('a page of the packet list: the merged result decoded in order, numbered from 1; the index is built once beside the result', async () => {
  const first = await get('analyst1', `/jobs/${job.id}/packets?offset=0&limit=50`);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const page = packetPageSchema.parse(first.body);
  assert.equal(page.total, job.result?.packets);
  assert.equal(page.packets.length, 50);
  assert.deepEqual(
    page.packets.map((p) => p.number),
    Array.from({ length: 50 }, (_, i) => i + 1),
  );
  assert.equal(page.packets[0]!.relative, 0);
  const index = `${mergedPath()}.pktidx`;
  const built = statSync(index).mtimeMs;

  // A later page equals the same packets read from the start of the file.
  const later = packetPageSchema.parse((await get('viewer1', `/jobs/${job.id}/packets?offset=300&limit=20`)).body);
  const expected: unknown[][] = [];
  const reader = openCapture(mergedPath());
  for (let n = 1, p = reader.next(); p && n <= 320; n++, p = reader.next()) {
    if (n <= 300) continue;
    const s = summarizePacket(p);
    expected.push([n, timestampToDecimal(p), p.origLen, s.protocol, s.source, s.destination, s.info]);
  }
  reader.close();
  assert.deepEqual(
    later.packets.map((p) => [p.number, p.time, p.length, p.protocol, p.source, p.destination, p.info]),
    expected,
  );
  assert.equal(statSync(index).mtimeMs, built, 'page 2 reused the index');

  const tail = packetPageSchema.parse((await get('analyst1', `/jobs/${job.id}/packets?offset=${page.total - 3}&limit=100`)).body);
  assert.equal(tail.packets.length, 3, 'the last page is cut at the end');
});

test('one packet: layers with fields and the hex dump for its owner; a viewer gets the layers without the bytes', async () => {
  const owner = await get('analyst1', `/jobs/${job.id}/packets/1`);
  assert.equal(owner.status, 200, JSON.stringify(owner.body));
  const detail = packetDetailSchema.parse(owner.body);
  assert.equal(detail.number, 1);
  assert.equal(detail.layers[0]!.name, 'Frame');
  assert.ok(detail.layers.some((l) => l.name === 'IPv4' || l.name === 'IPv6'));
  assert.equal(detail.bytes?.length, detail.captured * 2);
  assert.equal(detail.bytesWithheld, null);

  const viewer = packetDetailSchema.parse((await get('viewer1', `/jobs/${job.id}/packets/1`)).body);
  assert.deepEqual(viewer.layers, detail.layers);
  assert.equal(viewer.bytes, null);
  assert.match(viewer.bytesWithheld ?? '', /download/);
  const admin = packetDetailSchema.parse((await get('admin1', `/jobs/${job.id}/packets/1`)).body);
  assert.equal(admin.bytes, detail.bytes);
});

test('bad offsets, limits and numbers are 400 naming the field; past the end is 400 (offset) or 404 (n); an unknown job 404', async () => {
  for (const [query, name] of [
    ['offset=-1', 'offset'],
    ['offset=abc', 'offset'],
    ['offset=1.5', 'offset'],
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=x', 'limit'],
  ] as const) {
    const res = await get('analyst1', `/jobs/${job.id}/packets?${query}`);
    assert.equal(res.status, 400, query);
    assert.match((res.body as { error: { message: string } }).error.message, new RegExp(`^${name}`), query);
  }
  const past = await get('analyst1', `/jobs/${job.id}/packets?offset=999999`);
  assert.equal(past.status, 400);
  assert.match((past.body as { error: { message: string } }).error.message, /^offset: 999999 is past the last packet/);
  for (const n of ['0', 'x']) {
    const res = await get('analyst1', `/jobs/${job.id}/packets/${n}`);
    assert.equal(res.status, 400, n);
    assert.match((res.body as { error: { message: string } }).error.message, /^n/);
  }
  assert.equal((await get('analyst1', `/jobs/${job.id}/packets/999999`)).status, 404);
  assert.equal((await get('analyst1', `/jobs/00000000-0000-4000-8000-000000000000/packets`)).status, 404);
});
