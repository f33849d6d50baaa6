import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../log.js';
import { PartitionManager, partitionName, partitionedTables } from '../../storage/partitions.js';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import type { MaintenancePage } from '../../domain/maintenance/maintenance.service.js';

const DAY = 86_400_000;
let t: TestHttp;
const bearer: Record<string, string> = {};
const t0 = Date.UTC(2026, 3, 10, 6);

before(async () => {
  t = await createTestHttp();
  for (const user of ['admin1', 'viewer1']) bearer[user] = await t.accessTokenOf(user);
  // Real maintenance runs over the fixture's database: creates on day 0, creates + drops 10 days on.
  const pm = new PartitionManager({
    db: t.db,
    log: createLogger({ log: { level: 'silent' } }),
    ahead: 1,
    tables: partitionedTables({ healthDays: 3, trafficDays: 30 }),
  });
  await pm.run(new Date(t0));
  await pm.run(new Date(t0 + 10 * DAY));
});
after(() => t.close());

const get = (user: string, query: string) => t.app.request(`${API_PREFIX}/admin/maintenance${query}`, { headers: { authorization: `Bearer ${bearer[user]}` } });
const page = async (query: string): Promise<MaintenancePage> => {
  const res = await get('admin1', query);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as MaintenancePage;
};

test('GET /admin/maintenance lists the runs newest first, filtered by table, outcome and time', async () => {
  const all = await page('?limit=500');
  assert.ok(all.operations.length >= 8);
  const times = all.operations.map((o) => Date.parse(o.at));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
    'newest first',
  );
  const drop = all.operations.find((o) => o.action === 'drop' && o.partition === partitionName('health_samples', Date.UTC(2026, 3, 10)));
  assert.ok(drop, 'the health partition of day 0 was dropped (3 days kept)');
  assert.equal(drop.table, 'health_samples');
  assert.equal(drop.outcome, 'ok');
  assert.ok(drop.bytes !== null && drop.bytes > 0);
  assert.equal(drop.rangeFrom, new Date(Date.UTC(2026, 3, 10)).toISOString());

  const traffic = await page('?table=traffic_samples&limit=500');
  assert.ok(traffic.operations.length > 0 && traffic.operations.every((o) => o.table === 'traffic_samples'));
  assert.ok(
    traffic.operations.every((o) => o.action === 'create'),
    'traffic (30 days) dropped nothing',
  );
  assert.deepEqual((await page('?outcome=failed')).operations, []);
  const later = await page(`?from=${t0 + 5 * DAY}&limit=500`);
  assert.ok(later.operations.length > 0 && later.operations.every((o) => Date.parse(o.at) >= t0 + 5 * DAY));
  const earlier = await page(`?to=${new Date(t0 + DAY).toISOString()}&limit=500`);
  assert.equal(earlier.operations.length + later.operations.length, all.operations.length);
});

test('cursor pagination walks every operation once', async () => {
  const all = await page('?limit=500');
  const seen: number[] = [];
  let next: string | null = '';
  while (next !== null) {
    const p: MaintenancePage = await page(`?limit=3${next ? `&cursor=${next}` : ''}`);
    assert.ok(p.operations.length <= 3);
    seen.push(...p.operations.map((o) => o.id));
    next = p.next;
  }
  assert.deepEqual(
    seen,
    all.operations.map((o) => o.id),
  );
});

test('bad input is a 400 naming the field; viewers get 403', async () => {
  for (const [query, field] of [
    ['?from=yesterday', /^from: /],
    ['?outcome=meh', /^outcome: /],
    ['?limit=0', /^limit: /],
    ['?cursor=nope', /^cursor: /],
    ['?table=DROP%20TABLE', /^table: /],
    [`?from=${t0 + DAY}&to=${t0}`, /^from: must not be after to/],
  ] as const) {
    const res = await get('admin1', query);
    assert.equal(res.status, 400, query);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, field, query);
  }
  assert.equal((await get('viewer1', '')).status, 403);
});
