/**
 * The sensors page with 1,000 sensors: renders them all (virtualised: only the rows in view are in
 * the DOM) and scrolls through them. The sensors are real rows in the collector's database, each
 * with PCAP availability (a gap in every third) and a capture disk, written before the collector
 * starts. Frame times while scrolling are measured in the page with requestAnimationFrame and
 * RECORDED (test-artifacts/e2e/budget-sensors1000.json → bench/README.md), never asserted.
 */
import assert from 'node:assert/strict';
import { hash } from '@node-rs/argon2';
import { migrate } from '../../collector/src/storage/migrate.js';
import { Collector, integrationTest, prepareBackend } from '../integration/harness.js';
import { launchBrowser, newContext, screenshot } from './browser.js';
import { frameStats, recordBudget } from './budgets.js';
import * as scripts from './page-scripts.js';
import { ensureWebBuild } from './web-build.js';

const SENSORS = 1_000;

/** One INSERT … SELECT generate_series: 1,000 sensors across 10 locations, statuses mixed. */
const SEED_SQL = `
INSERT INTO locations (name) SELECT 'site-' || l FROM generate_series(1, 10) AS l ON CONFLICT DO NOTHING;
`;
const SEED_SENSORS_SQL = `
WITH s AS (
  SELECT i, extract(epoch FROM now())::bigint AS t FROM generate_series(1, ${SENSORS}) AS i
)
INSERT INTO sensors (name, location_id, secret_hash, status, status_reason, status_changed_at, last_seen, disks,
                     pcap_oldest, pcap_newest, pcap, pcap_updated_at)
SELECT 'sensor-' || lpad(i::text, 4, '0'),
       (SELECT id FROM locations WHERE name = 'site-' || (1 + i % 10)),
       $1,
       (ARRAY['online', 'online', 'degraded', 'offline', 'unknown'])[1 + i % 5],
       'seeded',
       now() - (i || ' seconds')::interval,
       now() - (i || ' seconds')::interval,
       jsonb_build_array(jsonb_build_object('mount', '/data', 'fs', 'ext4', 'size', 1000000000000,
         'used', (i % 100) * 10000000000, 'available', 1000000000000 - (i % 100) * 10000000000, 'directories', jsonb_build_array('/data/pcap'))),
       to_timestamp(t - 86400 - i * 60), to_timestamp(t),
       jsonb_build_array(jsonb_build_object('name', 'eth0', 'directory', '/data/pcap',
         'oldest', jsonb_build_object('sec', t - 86400 - i * 60, 'nsec', 0),
         'newest', jsonb_build_object('sec', t, 'nsec', 0),
         'files', 24, 'bytes', 24000000000,
         'gaps', CASE WHEN i % 3 = 0
                   THEN jsonb_build_array(jsonb_build_object('from', jsonb_build_object('sec', t - 40000, 'nsec', 0),
                                                              'to', jsonb_build_object('sec', t - 30000, 'nsec', 0)))
                   ELSE '[]'::jsonb END,
         'problems', '[]'::jsonb)),
       now()
FROM s`;

integrationTest('dashboard: the sensors page with 1,000 sensors renders and scrolls (frame times recorded)', async (scope) => {
  ensureWebBuild();
  const browser = await launchBrowser(scope.t);
  if (!browser) return;
  scope.defer(() => browser.close());

  const backend = await prepareBackend(scope, 'pglite');
  assert.ok(backend);
  const collector = await Collector.create(scope, { backend, healthIntervalSeconds: 600 });
  const db = await backend.openDb(collector.dataDir);
  try {
    await migrate(db);
    await db.exec(SEED_SQL);
    await db.query(SEED_SENSORS_SQL, [await hash('seeded sensors never connect')]);
    const [{ n } = { n: 0 }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sensors');
    assert.equal(n, SENSORS);
  } finally {
    await db.close();
  }
  await collector.start();
  const base = collector.api.baseUrl;

  const context = await newContext(browser, { width: 1280, height: 900 });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));

  await page.goto(`${base}/login?method=token&next=%2Fsensors`);
  await page.fill('#login-token', collector.apiToken);
  const started = Date.now();
  await page.press('#login-token', 'Enter');
  await page.getByText(`${SENSORS} of ${SENSORS} sensors`).waitFor({ timeout: 30_000 });
  await page.locator('[role=row][data-key="sensor-0001"]').waitFor();
  const firstRenderMs = Date.now() - started;

  const rowsInDom = await page.locator('[role=grid] [role=row][data-key]').count();
  assert.ok(rowsInDom > 5 && rowsInDom < 100, `virtualised: ${rowsInDom} rows in the DOM for ${SENSORS} sensors`);
  assert.ok((await page.locator('[role=grid] [data-gap]').count()) > 0, 'availability gaps are drawn');
  await screenshot(page, '10-sensors-1000');

  // Baseline in the same page and run: frames with nothing to do (the machine is shared).
  const idle = frameStats(await page.evaluate(scripts.idleFrames, 120));
  const scroll = await page.evaluate(scripts.scrollGridMeasuringFrames, 132);
  assert.equal(scroll.lastKey, 'sensor-1000', 'scrolling reaches the last sensor');
  assert.ok(scroll.maxRowsInDom < 100, `rows in the DOM while scrolling: ${scroll.maxRowsInDom}`);
  await screenshot(page, '11-sensors-1000-bottom');

  // Filtering 1,000 rows down is immediate: the count follows each keystroke.
  await page.fill('#sensor-filter', 'site-3');
  await page.getByText(`100 of ${SENSORS} sensors`).waitFor();

  // Reference in the same browser and run: the same rows as static HTML, scrolled the same way.
  await page.evaluate(scripts.showStaticReference, SENSORS);
  const reference = await page.evaluate(scripts.scrollGridMeasuringFrames, 132);
  assert.equal(reference.lastKey, 'ref-1000');
  const scrolling = frameStats(scroll.deltas);
  const referenceStats = frameStats(reference.deltas);

  recordBudget('sensors1000', {
    sensors: SENSORS,
    signInToFirstRowsMs: firstRenderMs,
    rowsInDom,
    maxRowsInDomWhileScrolling: scroll.maxRowsInDom,
    scrollPxPerFrame: 132,
    scrolling,
    staticHtmlReference: referenceStats,
    p50RatioToReference: Math.round((scrolling.p50Ms! / Math.max(0.1, referenceStats.p50Ms!)) * 100) / 100,
    idleBaseline: idle,
  });
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  await context.close();
  await collector.stop();
});
