/**
 * End-to-end (issue #13, jobs): the dashboard in headless Debian Chromium against a real collector
 * and a real agent whose capture directory holds generated traffic of 15-25 minutes ago. By
 * keyboard alone: open the new-job form, type a bad expression (the dry run's error shows under the
 * field with its position marked), fix it, take the quick range "Last hour", see the coverage
 * preview of the real plan, submit. The job page's progress reaches 100 % live (no reload), the
 * owner's toast says it completed, the merged PCAP downloads (fetched with the bearer token, saved
 * from a Blob) and its SHA-256 equals the signed manifest's; the analysis shows; the jobs list shows
 * the job complete at 100 %; a job submitted elsewhere appears there live, is cancelled and deleted
 * from it. The packet view lists the merged result decoded on the collector; arrow keys select a
 * packet, whose layers and hex dump show; the next page loads. Searching an address the sensor saw
 * and taking "Capture this" opens the form filled in (host, sensors, window). axe-core finds no
 * serious or critical violation on the form, the job page, the packet view and the list.
 * Screenshots in test-artifacts/e2e/jobs-*.png, axe results in axe-*.json.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { integrationTest, prepareBackend } from '../integration/harness.js';
import { ageFiles } from '../integration/harness/job-fixtures.js';
import { JobWorld } from '../integration/harness/job-world.js';
import { assertAccessible } from './accessibility.js';
import { e2eArtifacts, focused, launchBrowser, newContext, screenshot, tabTo, unlabelledControls } from './browser.js';
import { ensureWebBuild } from './web-build.js';

const BAD = 'tcp port xx';
const GOOD = 'tcp or udp';

integrationTest(
  'dashboard jobs: submit from the form by keyboard, live progress to 100 %, download = manifest SHA-256, analysis; cancel and delete from the list',
  async (scope) => {
    ensureWebBuild();
    const browser = await launchBrowser(scope.t);
    if (!browser) return;
    scope.defer(() => browser.close());
    const backend = await prepareBackend(scope, 'pglite');
    assert.ok(backend);

    // 10 minutes of traffic that ended 15 minutes ago, in closed one-minute files.
    const directory = join(scope.dir, 'captures', 'edge-1');
    const nowSec = Math.floor(Date.now() / 1000);
    writeRollingCaptures(directory, { seed: 7, bytes: 1_500_000, start: nowSec - 25 * 60, duration: 600, nanosecond: true }, 60);
    ageFiles(directory, 600);
    // The agent also indexes its files and reports their traffic (what the search box finds an address by).
    const world = await JobWorld.start(scope, {
      backend,
      sensors: [{ name: 'edge-1', location: 'lab', directory }],
      agentConfig: { index: { settleSeconds: 1 }, traffic: { enabled: true, backfill: true } },
    });
    const base = world.collector.api.baseUrl;

    const context = await newContext(browser, { width: 1280, height: 900 });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    // Sign in with the collector's API token (an admin), keyboard only.
    await page.goto(`${base}/jobs/new`);
    await page.waitForURL(/\/login\?next=/);
    await tabTo(page, (d) => d.includes('Sign in with API token'));
    await page.keyboard.press('Enter');
    await tabTo(page, (d) => d.startsWith('input#login-token'));
    await page.keyboard.type(world.collector.apiToken);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/jobs/new`);
    await page.getByRole('heading', { name: 'New job' }).waitFor();
    await page.locator('[data-live="open"]').waitFor();
    assert.deepEqual(await unlabelledControls(page), [], 'every control of the form is labelled');
    await assertAccessible(page, 'job-new');

    // Name, then the filter as an expression (arrow key in the radio group), a bad one first.
    await tabTo(page, (d) => d.startsWith('input#') && d.endsWith('-name ""'));
    await page.keyboard.type('e2e capture');
    await page.keyboard.press('Tab');
    assert.match(await focused(page), /-fmode-fields /, 'the filter kind is the next stop');
    await page.keyboard.press('ArrowRight');
    await tabTo(page, (d) => d.startsWith('textarea#'));
    await page.keyboard.type(BAD);
    const filterError = page.locator('[data-field="filter"]');
    await filterError.filter({ hasText: /^filter: at \d+:/ }).waitFor({ timeout: 15_000 });
    const at = Number(/at (\d+):/.exec((await filterError.textContent()) ?? '')![1]);
    assert.equal(BAD.slice(at), 'xx', `the error points at the bad token: ${await filterError.textContent()}`);
    assert.equal(await page.locator('.filter-mark mark').textContent(), 'x', 'the position is marked in the text');
    await screenshot(page, 'jobs-01-form-filter-error');
    await assertAccessible(page, 'job-new-filter-error');
    await page.keyboard.press('Control+A');
    await page.keyboard.type(GOOD);
    await filterError.filter({ hasText: /^$/ }).waitFor({ timeout: 15_000 });

    // The window: the quick range "Last hour" (a button: Enter), then the plan's coverage preview.
    await tabTo(page, (d) => d.startsWith('button#') && d.includes('"Last hour"'));
    await page.keyboard.press('Enter');
    const row = page.locator('tr[data-plan-sensor="edge-1"][data-included="true"]');
    await row.waitFor({ timeout: 20_000 });
    const coverage = await row.locator('[role=img]').getAttribute('aria-label');
    assert.match(coverage ?? '', /^edge-1: 100 % of the window covered|^edge-1: \d+ % of the window covered/);
    await screenshot(page, 'jobs-02-form-coverage');

    // Submit: Tab to the button, Enter; the job page opens.
    await tabTo(page, (d) => d.startsWith('button#') && d.includes('"Submit job"'), 40);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/, { timeout: 15_000 });
    const jobId = page.url().split('/').pop()!;
    await page.getByRole('progressbar', { name: 'Job progress' }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    const seen = new Set<string>();
    const started = Date.now();
    while (Date.now() - started < 120_000) {
      const v = await page.getByRole('progressbar', { name: 'Job progress' }).getAttribute('aria-valuenow');
      seen.add(v ?? '');
      if (v === '100') break;
      await page.waitForTimeout(100);
    }
    assert.equal(
      await page.getByRole('progressbar', { name: 'Job progress' }).getAttribute('aria-valuenow'),
      '100',
      `progress values seen: ${[...seen].join(', ')}`,
    );
    scope.t.diagnostic(`job progress values seen: ${[...seen].join(', ')}`);
    await page.locator('.page-head [data-status="complete"]').waitFor({ timeout: 15_000 });
    await page.locator('.toast', { hasText: 'Job “e2e capture” complete' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42, 'progress came live, without a reload');

    // The manifest and the analysis; the download by keyboard; its SHA-256 is the manifest's.
    const manifestSha = await page.locator('[data-manifest-sha256]').textContent({ timeout: 15_000 });
    const fromApi = await world.jobs.expect<{ manifest: { merged: { sha256: string } } }>(200, 'GET', `/jobs/${jobId}/manifest`);
    assert.equal(manifestSha, fromApi.manifest.merged.sha256);
    await page.getByRole('heading', { name: 'Analysis' }).waitFor({ timeout: 15_000 });
    await page.getByRole('heading', { name: 'Protocol hierarchy' }).waitFor();
    assert.ok((await page.locator('table[aria-label="Flows"] tbody tr').count()) > 0, 'the flows table has rows');
    await page.getByRole('button', { name: 'Download merged PCAP' }).focus();
    const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    const saved = join(scope.dir, 'download.pcap');
    await download.saveAs(saved);
    assert.match(download.suggestedFilename(), /^pcapmesh-.*\.pcap(ng)?$/);
    const sha = createHash('sha256').update(readFileSync(saved)).digest('hex');
    assert.equal(sha, manifestSha, 'the downloaded PCAP is the one the manifest signs');
    await screenshot(page, 'jobs-03-job-complete');
    await assertAccessible(page, 'job');

    // The packet view: the list decoded on the collector, by keyboard; the selected packet's layers and hex dump.
    const total = Number(await page.locator('[data-packets]').getAttribute('data-packets'));
    const grid = page.getByRole('grid', { name: 'Packets' });
    await grid.locator('[role=row][data-key="1"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-packet-layers="1"] [data-layer="Frame"]').waitFor();
    // From the page controls the list is the next tab stop.
    await page.getByRole('button', { name: 'Go', exact: true }).focus();
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'div# "Packets"', 'Tab reaches the packet list');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    const layers = page.locator('[data-packet-layers="4"]');
    await layers.waitFor({ timeout: 15_000 });
    assert.ok((await layers.locator('[data-layer]').count()) >= 3, 'frame, link and network layers at least');
    const dump = (await page.locator('[data-hexdump]').textContent()) ?? '';
    assert.match(dump, /^0000 [0-9a-f]{2} /, `a hex dump: ${dump.slice(0, 60)}`);
    const fromApi4 = await world.jobs.expect<{ protocol: string; info: string; bytes: string }>(200, 'GET', `/jobs/${jobId}/packets/4`);
    assert.ok(dump.startsWith(`0000 ${fromApi4.bytes.slice(0, 2)} `), 'the dump shows the packet the API decodes');
    assert.equal(await page.locator('[data-packet-range]').textContent(), `Packets 1–${Math.min(100, total)} of ${total.toLocaleString('en-US')}`);
    await screenshot(page, 'jobs-06-packet-view');
    await page.locator('[data-packet-view]').screenshot({ path: join(e2eArtifacts, 'jobs-06-packet-view-pane.png') });
    await assertAccessible(page, 'packet-view');
    if (total > 100) {
      await page.getByRole('button', { name: 'Next page' }).focus();
      await page.keyboard.press('Enter');
      await page
        .locator('[data-packet-range]')
        .filter({ hasText: /^Packets 101–/ })
        .waitFor({ timeout: 15_000 });
      await page.locator('[data-packet-layers="101"]').waitFor({ timeout: 15_000 });
    }

    // The jobs list: the job complete at 100 %.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs', exact: true }).click();
    const listRow = page.locator(`tr[data-job="${jobId}"][data-status="complete"]`);
    await listRow.waitFor();
    assert.equal(await listRow.getByRole('progressbar').getAttribute('aria-valuenow'), '100');
    assert.deepEqual(await unlabelledControls(page), [], 'every control of the jobs list is labelled');
    await screenshot(page, 'jobs-04-list');
    await assertAccessible(page, 'jobs');

    // A job submitted elsewhere (a future window: its task waits) appears on the list live; cancel it
    // there, then delete it (after the confirmation).
    const { job: waiting } = await world.jobs.expect<{ job: { id: string } }>(201, 'POST', '/jobs', {
      name: 'future window',
      window: { from: Date.now() + 5 * 60_000, to: Date.now() + 20 * 60_000 },
      filter: { expression: '' },
      targets: { sensors: ['edge-1'] },
    });
    const waitingRow = page.locator(`tr[data-job="${waiting.id}"]`);
    await waitingRow.waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Cancel job future window' }).click();
    await page.locator(`tr[data-job="${waiting.id}"][data-status="cancelled"]`).waitFor({ timeout: 15_000 });
    assert.equal(await page.getByRole('button', { name: 'Cancel job future window' }).count(), 0, 'no cancel on an ended job');
    await screenshot(page, 'jobs-05-list-cancelled');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete job future window' }).click();
    await waitingRow.waitFor({ state: 'detached', timeout: 15_000 });
    await world.jobs.expect(404, 'GET', `/jobs/${waiting.id}`);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42, 'no reload on the way');

    // Search an address the sensor saw; "Capture this" opens the job form filled in from the search's job request.
    await page.locator('h1').click();
    await page.keyboard.press('/');
    await page.keyboard.type('10.1.1.10');
    const capture = page.getByRole('link', { name: 'Capture this' });
    await capture.waitFor({ timeout: 60_000 });
    const href = new URL((await capture.getAttribute('href'))!, base);
    await screenshot(page, 'jobs-07-search-address');
    await capture.click();
    await page.waitForURL(/\/jobs\/new\?/);
    await page.getByRole('heading', { name: 'New job' }).waitFor();
    assert.equal(await page.locator('input[id$="-hosts"]').inputValue(), '10.1.1.10', 'the address is the host field');
    assert.equal(await page.locator('input[id$="-fmode-fields"]').isChecked(), true);
    assert.equal(await page.locator('input[id$="-tmode-sensors"]').isChecked(), true, 'targets by sensors');
    assert.equal(await page.getByRole('checkbox', { name: 'edge-1' }).isChecked(), true, 'the sensor that saw it');
    await page.locator('input[id$="-utc"]').check();
    const wall = (iso: string) => new Date(Date.parse(iso)).toISOString().slice(0, 16);
    assert.equal(
      await page.locator('input[id$="-from"]').inputValue(),
      wall(href.searchParams.get('from')!),
      'the window starts where the address was first seen',
    );
    assert.equal(await page.locator('input[id$="-to"]').inputValue(), wall(href.searchParams.get('to')!), 'and ends where it was last seen');
    await screenshot(page, 'jobs-08-form-from-search');

    assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
    await context.close();
  },
);
