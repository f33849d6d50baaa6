/**
 * The jobs list with 1,000 jobs (#13): real rows in the collector's database (900 ended, 100 running
 * with a scanning task each on a sensor that never connects, so the scheduler leaves them alone),
 * all 1,000 loaded in the list ("Older jobs" pages of 50). Frame times are measured in the page with
 * requestAnimationFrame, with long tasks (PerformanceObserver 'longtask'): idle, scrolling the list
 * to the end, and while live updates arrive — the test cancels 50 running jobs through the API and
 * each job.status event from the live feed updates its row; and, as the reference, the same rows as a
 * static HTML table scrolled the same way. RECORDED in
 * test-artifacts/e2e/budget-jobs1000.json (→ bench/README.md "Dashboard budgets"), never asserted
 * as timings; what is asserted is that every row is there and every update lands.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { migrate } from '../../collector/src/storage/migrate.js';
import { Collector, integrationTest, prepareBackend } from '../integration/harness.js';
import { e2eArtifacts, launchBrowser, newContext } from './browser.js';
import { frameStats, recordBudget } from './budgets.js';
import { framesFor, scrollPageMeasuringFrames, showStaticJobsReference } from './jobs-scripts.js';
import * as scripts from './page-scripts.js';
import { ensureWebBuild } from './web-build.js';

const JOBS = 1_000;
const RUNNING = 100;
const CANCELLED_LIVE = 50;

/**
 * 1,000 jobs over the last 1,000 minutes; the newest 100 running (one scanning task each on edge-1), the rest ended.
 * (With 300 open jobs the collector, once 'ready', did not answer the harness's 10 s health check
 * on this loaded 2-core machine — nothing was logged meanwhile; not investigated here, see bench/README.md.)
 */
const SEED_JOBS_SQL = `
INSERT INTO jobs (id, name, owner, status, window_from, window_to, window_ns, filter, filter_expression, targets, limits,
                  created_at, started_at, finished_at, deadline_at)
SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
       'seeded ' || lpad(i::text, 4, '0'),
       'token:collector-admin',
       CASE WHEN i > ${JOBS - RUNNING} THEN 'running' ELSE (ARRAY['complete', 'partial', 'failed', 'cancelled'])[1 + i % 4] END,
       now() - ((${JOBS} - i + 30) || ' minutes')::interval,
       now() - ((${JOBS} - i + 20) || ' minutes')::interval,
       '{"from": "0", "to": "0"}'::jsonb,
       '{"expression": "tcp"}'::jsonb, 'tcp', '{"sensors": ["edge-1"]}'::jsonb,
       '{"maxBytes": 1073741824, "maxPackets": 1000000, "timeoutSeconds": 86400}'::jsonb,
       now() - ((${JOBS} - i) || ' minutes')::interval,
       now() - ((${JOBS} - i) || ' minutes')::interval,
       CASE WHEN i > ${JOBS - RUNNING} THEN NULL ELSE now() - ((${JOBS} - i) || ' minutes')::interval + interval '1 minute' END,
       now() + interval '1 day'
FROM generate_series(1, ${JOBS}) AS i`;
const SEED_TASKS_SQL = `
INSERT INTO job_tasks (id, job_id, sensor_id, sensor_name, status, dispatched_at, started_at)
SELECT 'seeded-' || i, ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
       (SELECT id FROM sensors WHERE name = 'edge-1'), 'edge-1', 'scanning', now(), now()
FROM generate_series(${JOBS - RUNNING + 1}, ${JOBS}) AS i`;

integrationTest('dashboard: the jobs list with 1,000 jobs scrolls and takes live updates (frame times recorded)', async (scope) => {
  ensureWebBuild();
  const browser = await launchBrowser(scope.t);
  if (!browser) return;
  scope.defer(() => browser.close());

  const backend = await prepareBackend(scope, 'pglite');
  assert.ok(backend);
  const collector = await Collector.create(scope, { backend, healthIntervalSeconds: 600 });
  await collector.addSensor('edge-1', 'lab');
  const db = await backend.openDb(collector.dataDir);
  try {
    await migrate(db);
    await db.exec(SEED_JOBS_SQL);
    await db.exec(SEED_TASKS_SQL);
    const [{ n } = { n: 0 }] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs');
    assert.equal(n, JOBS);
  } finally {
    await db.close();
  }
  await collector.start();
  const base = collector.api.baseUrl;

  const context = await newContext(browser, { width: 1280, height: 900 });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${base}/login?method=token&next=%2Fjobs`);
  await page.fill('#login-token', collector.apiToken);
  await page.press('#login-token', 'Enter');
  await page.locator('tr[data-job]').first().waitFor({ timeout: 30_000 });

  // Every page of 50, through the list's own "Older jobs" button.
  const started = Date.now();
  const rows = page.locator('tr[data-job]');
  for (let loaded = await rows.count(); loaded < JOBS;) {
    await page.getByRole('button', { name: 'Older jobs' }).click();
    await page.locator(`tr[data-job]:nth-child(${loaded + 50})`).waitFor({ timeout: 30_000 });
    loaded = await rows.count();
  }
  const loadAllMs = Date.now() - started;
  assert.equal(await rows.count(), JOBS, 'all 1,000 jobs are listed');
  assert.equal(await page.getByRole('button', { name: 'Older jobs' }).count(), 0, 'nothing older');
  // The viewport only: a full-page picture of 1,000 rows times out.
  await page.screenshot({ path: join(e2eArtifacts, 'jobs-1000.png') });

  const idle = frameStats(await page.evaluate(scripts.idleFrames, 120));
  const scroll = await page.evaluate(scrollPageMeasuringFrames, 132);

  // Live updates, with the newest jobs (the running ones) in view: cancelled through the API while the page is measured.
  await page.evaluate('window.scrollTo(0, 0)');
  const running = await page.locator('tr[data-job][data-status="running"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-job')!));
  assert.equal(running.length, RUNNING);
  const measuring = page.evaluate(framesFor, [8_000, 'tr[data-job][data-status="cancelled"]'] as const);
  const cancelledBefore = await page.locator('tr[data-job][data-status="cancelled"]').count();
  const sentAt = Date.now();
  for (const id of running.slice(0, CANCELLED_LIVE)) {
    const res = await fetch(`${base}/api/v1/jobs/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${collector.apiToken}` } });
    assert.equal(res.status, 200, `cancel ${id}: ${res.status}`);
  }
  const sendMs = Date.now() - sentAt;
  const live = await measuring;
  // Every update lands (polled from here: the page's CSP forbids waitForFunction's eval).
  const cancelled = page.locator('tr[data-job][data-status="cancelled"]');
  for (const until = Date.now() + 30_000; (await cancelled.count()) !== cancelledBefore + CANCELLED_LIVE && Date.now() < until;) await page.waitForTimeout(250);
  assert.equal(await cancelled.count(), cancelledBefore + CANCELLED_LIVE, 'every cancelled job shows cancelled, live');
  await page.screenshot({ path: join(e2eArtifacts, 'jobs-1000-live.png') });

  // Reference in the same browser and run: the same 1,000 rows as a static HTML table, scrolled the same way.
  await page.evaluate(showStaticJobsReference, JOBS);
  const reference = await page.evaluate(scrollPageMeasuringFrames, 132);

  const round = (n: number) => Math.round(n * 10) / 10;
  const long = (d: number[]) => ({ count: d.length, totalMs: round(d.reduce((a, b) => a + b, 0)), maxMs: round(Math.max(0, ...d)) });
  recordBudget('jobs1000', {
    jobs: JOBS,
    rowsInDom: JOBS,
    loadAllPagesMs: loadAllMs,
    idleBaseline: idle,
    scrolling: { scrollPxPerFrame: 132, ...frameStats(scroll.deltas), longTasks: long(scroll.longTasks) },
    staticHtmlReference: { ...frameStats(reference.deltas), longTasks: long(reference.longTasks) },
    liveUpdates: {
      cancelledThroughApi: CANCELLED_LIVE,
      sendMs,
      windowMs: 8_000,
      rowsUpdatedInWindow: live.matching - cancelledBefore,
      ...frameStats(live.deltas),
      longTasks: long(live.longTasks),
    },
  });
  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  await context.close();
  await collector.stop();
});
