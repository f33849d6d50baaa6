/**
 * End-to-end (#13): the network page, the search box and the admin pages in headless Debian
 * Chromium against a real collector (serving web/dist). Two sensors at two locations whose
 * coordinates an admin set (PUT /admin/locations); the globe renders with SwiftShader WebGL (its
 * canvas draws, the globe.gl chunk loads on the network page and not before), and with
 * --disable-webgl the same locations show as a table. "/" focuses the search box, which finds a
 * sensor and opens it. The system, storage and access pages show live data; the access page
 * registers a sensor and shows its one-time `pcapmesh-agent enroll` command, and creates an API
 * token. axe-core finds no serious or critical violation on each page (accessibility.ts).
 * Screenshots test-artifacts/e2e/network-*.png, admin-*.png; the globe chunk's size in
 * budget-globeChunk.json.
 */
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { Collector, integrationTest, prepareBackend } from '../integration/harness.js';
import { assertAccessible } from './accessibility.js';
import { launchBrowser, newContext, screenshot, unlabelledControls } from './browser.js';
import { recordBudget } from './budgets.js';
import { activeId, canvasColours } from './network-scripts.js';
import { ensureWebBuild, initialJs, lazyChunks } from './web-build.js';

const LOCATIONS = [
  { name: 'berlin', latitude: 52.52, longitude: 13.405, description: 'Berlin office' },
  { name: 'tokyo', latitude: 35.68, longitude: 139.69, description: 'Tokyo DC' },
];

function navTo(page: Page, item: string): Promise<void> {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: item, exact: true }).click();
}

/** Signs in with the collector's API token (an admin) and lands on `path`. */
async function signIn(browser: Browser, base: string, token: string, path: string): Promise<{ page: Page; scripts: string[]; errors: string[] }> {
  const context = await newContext(browser, { width: 1280, height: 900 });
  const page = await context.newPage();
  const errors: string[] = [];
  const scripts: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('request', (r) => {
    if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname);
  });
  await page.goto(`${base}${path}`);
  await page.waitForURL(/\/login\?next=/);
  await page.getByRole('button', { name: 'Sign in with API token' }).click();
  await page.fill('#login-token', token);
  await page.press('#login-token', 'Enter');
  await page.waitForURL(`${base}${path}`);
  return { page, scripts, errors };
}

async function assertAllLabelled(page: Page, where: string): Promise<void> {
  assert.deepEqual(await unlabelledControls(page), [], `inputs without a label on ${where}`);
}

integrationTest(
  'dashboard network, search and admin: globe (SwiftShader) and its table fallback, "/" search finds a sensor, admin pages live',
  async (scope) => {
    ensureWebBuild();
    const browser = await launchBrowser(scope.t);
    if (!browser) return;
    scope.defer(() => browser.close());
    const backend = await prepareBackend(scope, 'pglite');
    assert.ok(backend);
    const collector = await Collector.create(scope, { backend, healthIntervalSeconds: 60 });
    await collector.addSensor('alpha', 'berlin');
    await collector.addSensor('beta', 'tokyo');
    await collector.start();
    const base = collector.api.baseUrl;
    for (const l of LOCATIONS) {
      const res = await fetch(`${base}/api/v1/admin/locations/${l.name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${collector.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ latitude: l.latitude, longitude: l.longitude, description: l.description }),
      });
      assert.equal(res.status, 200, `PUT /admin/locations/${l.name} → ${res.status}: ${await res.text()}`);
    }

    // The globe's chunk is not among the initial scripts, and is loaded only once the network page opens.
    const globeChunks = lazyChunks('globe.gl-');
    assert.equal(globeChunks.length, 1, `one globe.gl chunk in web/dist: ${JSON.stringify(globeChunks)}`);
    const globeChunk = globeChunks[0]!;
    assert.ok(!initialJs().files.includes(globeChunk.file), 'the globe is not in the initial JavaScript');

    const { page, scripts, errors } = await signIn(browser, base, collector.apiToken, '/sensors');
    await page.locator('[role=row][data-key="alpha"]').waitFor();
    assert.ok(!scripts.some((s) => s.includes('/globe.gl-')), `globe chunk loaded before the network page: ${scripts.join(', ')}`);

    await navTo(page, 'Network');
    await page.getByRole('heading', { name: 'Network' }).waitFor();
    await page.locator('[data-view="globe"] .globe[data-ready="true"] canvas').waitFor({ timeout: 60_000 });
    assert.ok(
      scripts.some((s) => s.includes('/globe.gl-')),
      'the globe chunk loads on the network page',
    );
    recordBudget('globeChunk', { file: globeChunk.file, gzipBytes: globeChunk.gzipBytes, loadedBeforeNetworkPage: false });
    // The canvas really draws: its pixels are not all one colour (WebGL through SwiftShader); the
    // first frames come from requestAnimationFrame, so wait for them.
    const distinctColours = () => page.evaluate(canvasColours, '.globe canvas');
    let distinct = 0;
    for (let i = 0; i < 40 && distinct <= 10; i++) {
      distinct = await distinctColours();
      if (distinct <= 10) await page.waitForTimeout(500);
    }
    await screenshot(page, 'network-00-globe-first-frame');
    assert.ok(distinct > 10, `the globe canvas draws a picture (${distinct} distinct colours)`);
    // The same locations in the table under the globe, and opening one shows its sensors.
    await page.getByText('Show as tables').click();
    for (const l of LOCATIONS) await page.locator(`[data-view="globe"] tr[data-location="${l.name}"]`).waitFor();
    await page.selectOption('#network-location', 'berlin');
    await page.locator('.location-detail[data-location="berlin"]').getByRole('link', { name: 'alpha' }).waitFor();
    assert.equal(await page.inputValue('#loc-lat'), '52.52');
    await assertAllLabelled(page, 'network');
    await screenshot(page, 'network-01-globe');
    await assertAccessible(page, 'network');

    // "/" focuses the search box; a sensor is found and opened.
    await page.locator('h1').click();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(activeId), 'global-search');
    await page.keyboard.type('alph');
    const hit = page.locator('[data-kind="sensors"] li[data-key="sensor:alpha"] a');
    await hit.waitFor({ timeout: 10_000 });
    await screenshot(page, 'network-02-search');
    await assertAccessible(page, 'search');
    await hit.click();
    await page.waitForURL(`${base}/sensors/alpha`);
    await page.getByRole('heading', { name: 'alpha' }).waitFor();

    // Admin pages with live data.
    await navTo(page, 'System');
    const version = page.locator('[data-card="sys-collector"] dd[data-fact="version"]');
    await version.waitFor();
    assert.match((await version.textContent()) ?? '', /\d+\.\d+/);
    await page.locator('[data-card="sys-database"] dd[data-fact="kind"]').filter({ hasText: 'pglite' }).waitFor();
    await page.locator('[data-card="sys-logins"] dd[data-fact="overBudget"]').waitFor();
    await assertAllLabelled(page, 'system');
    await screenshot(page, 'admin-01-system');
    await assertAccessible(page, 'admin-system');

    await navTo(page, 'Storage');
    await page.locator('tr[data-table]').first().waitFor();
    assert.ok(Number(await page.locator('[data-database-bytes]').getAttribute('data-database-bytes')) > 0, 'the database has a size');
    await screenshot(page, 'admin-02-storage');
    await assertAccessible(page, 'admin-storage');

    await navTo(page, 'Access');
    await page.locator('tr[data-sensor="alpha"]').waitFor();
    await page.fill('#new-sensor-name', 'gamma');
    await page.fill('#new-sensor-location', 'tokyo');
    await page.getByRole('button', { name: 'Register and enrol' }).click();
    const command = page.locator('[data-secret="Enrol gamma"] [data-secret-text]');
    await command.waitFor();
    assert.match((await command.textContent()) ?? '', new RegExp(`^pcapmesh-agent enroll --collector ${base.replace(/[.]/g, '\\.')} --token pme_\\S+$`));
    await page.locator('tr[data-sensor="gamma"]').waitFor();
    await page.fill('#new-token-name', 'e2e-ci');
    await page.selectOption('#new-token-role', 'viewer');
    await page.getByRole('button', { name: 'Create token' }).click();
    await page.locator('tr[data-token="e2e-ci"]').waitFor();
    await page.locator('[data-secret="API token e2e-ci (viewer)"]').waitFor();
    await assertAllLabelled(page, 'access');
    await screenshot(page, 'admin-03-access');
    await assertAccessible(page, 'admin-access');
    assert.deepEqual(errors, [], 'no uncaught errors in the page');

    // Without WebGL: the same locations as a table.
    const noGl = await launchBrowser(scope.t, ['--disable-webgl', '--disable-webgl2']);
    assert.ok(noGl);
    scope.defer(() => noGl.close());
    const fallback = await signIn(noGl, base, collector.apiToken, '/network');
    await fallback.page.locator('[data-view="table"]').getByText('WebGL is not available').waitFor();
    for (const l of LOCATIONS) await fallback.page.locator(`[data-view="table"] tr[data-location="${l.name}"]`).waitFor();
    assert.equal(await fallback.page.locator('.globe').count(), 0, 'no globe without WebGL');
    assert.ok(!fallback.scripts.some((s) => s.includes('/globe.gl-')), 'without WebGL the globe chunk is never loaded');
    await screenshot(fallback.page, 'network-03-no-webgl');
    await assertAccessible(fallback.page, 'network-no-webgl');
    assert.deepEqual(fallback.errors, [], 'no uncaught errors without WebGL');
    await collector.stop();
  },
);
