/**
 * End-to-end: the dashboard in headless Debian Chromium against a real collector (serving web/dist)
 * and a real agent. Sign in (API token, keyboard only), watch the sensor come online live, kill -9
 * the agent and see it go offline within 10 s without a reload, open the sensor from the table by
 * keyboard, check every input is labelled, sign out. axe-core finds no serious or critical violation on
 * each page (accessibility.ts). Screenshots in test-artifacts/e2e/.
 *
 * Username/password sign-in joins this test when the collector has POST /api/v1/login (issue 4).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { Agent, Collector, integrationTest, prepareBackend } from '../integration/harness.js';
import { assertAccessible } from './accessibility.js';
import { focused, launchBrowser, newContext, screenshot, tabTo, unlabelledControls } from './browser.js';
import { recordBudget } from './budgets.js';
import * as scripts from './page-scripts.js';
import { ensureWebBuild, initialJs } from './web-build.js';

const OFFLINE_DEADLINE_MS = 10_000;
const ADMIN_PASSWORD = `e2e-${randomBytes(12).toString('hex')}`;

function statusOf(page: Page, sensor: string): Promise<string | null> {
  return page.evaluate(scripts.rowStatus, sensor);
}

/** Waits until the sensors table shows `sensor` with `status` (live, no reload). */
function waitForRow(page: Page, sensor: string, status: string, timeout: number): Promise<unknown> {
  return page.waitForFunction(scripts.rowStatusIs, [sensor, status] as const, { timeout });
}

/** Client-side navigation through the main menu. */
function navTo(page: Page, item: string): Promise<void> {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: item, exact: true }).click();
}

async function assertAllLabelled(page: Page, where: string): Promise<void> {
  assert.deepEqual(await unlabelledControls(page), [], `inputs without a label on ${where}`);
}

integrationTest('dashboard: sign in, sensor online live, kill -9 → offline within 10 s without reload, sign out', async (scope) => {
  ensureWebBuild();
  const browser = await launchBrowser(scope.t);
  if (!browser) return;
  scope.defer(() => browser.close());

  const backend = await prepareBackend(scope, 'pglite');
  assert.ok(backend);
  const collector = await Collector.create(scope, { backend, healthIntervalSeconds: 60 });
  const secret = await collector.addSensor('alpha', 'lab');
  // Inherited by the collector: the first admin's password once users and roles exist (issue 4).
  process.env.PCAPMESH_ADMIN_PASSWORD = ADMIN_PASSWORD;
  await collector.start();
  const base = collector.api.baseUrl;

  const js = initialJs();
  recordBudget('initialJs', { files: js.files, bytes: js.bytes, gzipBytes: js.gzipBytes, budgetGzipBytes: 120 * 1024 });
  assert.ok(js.files.length > 0, 'index.html loads an entry chunk');

  const context = await newContext(browser, { width: 1280, height: 860 });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));

  // Signed out: any page leads to the login page, which remembers where we wanted to go.
  await page.goto(`${base}/sensors`);
  await page.waitForURL(/\/login\?next=%2Fsensors$/);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await assertAllLabelled(page, 'login (password)');
  await screenshot(page, '01-login');
  await assertAccessible(page, 'login');

  // Keyboard only: Tab to "Sign in with API token", Enter, Tab to the token field, type, Enter.
  await tabTo(page, (d) => d.includes('Sign in with API token'));
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Sign in with an API token' }).waitFor();
  await assertAllLabelled(page, 'login (API token)');
  // A wrong token is refused with a message, and nothing typed is lost.
  await tabTo(page, (d) => d.startsWith('input#login-token'));
  await page.keyboard.type('pmt_this-is-not-the-token-at-all');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'not valid' }).waitFor();
  assert.equal(await page.inputValue('#login-token'), 'pmt_this-is-not-the-token-at-all');
  await page.focus('#login-token');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(collector.apiToken);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/sensors`);

  // No reload from here on: a marker on window must survive until the end.
  await page.evaluate(scripts.setMarker);
  const rowStatus = () => statusOf(page, 'alpha');
  await page.locator('[role=row][data-key="alpha"]').waitFor();
  assert.equal(await rowStatus(), 'unknown');
  await page.locator('[data-live="open"]').waitFor();
  await assertAllLabelled(page, 'sensors');

  // The agent starts: the row turns online by itself, gauges fill from live health samples.
  const agent = new Agent(scope, { name: 'alpha', secret, mqttUrl: collector.mqttUrl, healthSeconds: 1 });
  agent.start();
  await waitForRow(page, 'alpha', 'online', 30_000);
  await page.locator('[data-key="alpha"] [role=meter]').first().waitFor({ timeout: 10_000 });
  await screenshot(page, '02-sensors-online');
  await assertAccessible(page, 'sensors');

  // Fleet dashboard (client-side navigation): counts and the recent change, live.
  await navTo(page, 'Fleet');
  await page.locator('[data-stat="online"] .stat-value').filter({ hasText: '1' }).waitFor();
  await page.locator('.activity li[data-sensor="alpha"][data-to="online"]').first().waitFor();
  await assertAllLabelled(page, 'fleet');
  await screenshot(page, '03-fleet-online');
  await assertAccessible(page, 'fleet');

  // kill -9: offline within 10 s on the fleet page and on the sensors page, without reload.
  const killedAt = Date.now();
  await agent.kill9();
  await page.locator('[data-stat="offline"] .stat-value').filter({ hasText: '1' }).waitFor({ timeout: OFFLINE_DEADLINE_MS });
  await navTo(page, 'Sensors');
  await waitForRow(page, 'alpha', 'offline', Math.max(1, OFFLINE_DEADLINE_MS - (Date.now() - killedAt)));
  const offlineAfterMs = Date.now() - killedAt;
  assert.ok(offlineAfterMs <= OFFLINE_DEADLINE_MS, `offline shown ${offlineAfterMs} ms after kill -9`);
  recordBudget('offlineAfterKill9', { ms: offlineAfterMs, deadlineMs: OFFLINE_DEADLINE_MS });
  await screenshot(page, '04-sensors-offline');

  // Keyboard pass over the table: Tab from the filter into the grid, Home, Enter opens the sensor.
  await page.focus('#sensor-filter');
  await page.keyboard.press('Tab');
  assert.match(await focused(page), /^div#/, 'the grid is the next tab stop');
  assert.equal(await page.evaluate(scripts.focusedRole), 'grid');
  await page.keyboard.press('End');
  await page.keyboard.press('Home');
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/sensors/alpha`);
  await page.getByRole('heading', { name: 'alpha' }).waitFor();
  await page.locator('.chart-canvas canvas').first().waitFor({ timeout: 15_000 });
  await assertAllLabelled(page, 'sensor detail (relative range)');
  await page.getByLabel('Absolute').check();
  await assertAllLabelled(page, 'sensor detail (absolute range)');
  await screenshot(page, '05-sensor-detail');
  await assertAccessible(page, 'sensor-detail');

  // Phone width and the dark theme (OS preference).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await navTo(page, 'Sensors');
  await page.locator('[role=row][data-key="alpha"]').waitFor();
  const bg = await page.evaluate(scripts.bodyBackground);
  assert.notEqual(bg, 'rgb(246, 247, 249)', 'the dark theme follows the OS preference');
  const overflow = await page.evaluate(scripts.horizontalOverflow);
  assert.ok(overflow <= 1, `no horizontal scrolling at phone width (overflow ${overflow} px)`);
  await screenshot(page, '06-sensors-phone-dark');
  await assertAccessible(page, 'sensors-phone-dark');

  assert.equal(await page.evaluate(scripts.marker), 42, 'the page was never reloaded');

  // Sign out: back to the login page; the session is gone for this tab.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
  await page.getByText('You are signed out.').waitFor();
  await page.goto(`${base}/sensors`);
  await page.waitForURL(/\/login\?next=/);
  await screenshot(page, '07-signed-out');

  // Username and password, as soon as the collector has POST /api/v1/login.
  const probe = await fetch(`${base}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  if (probe.status === 404) {
    scope.t.diagnostic('POST /api/v1/login does not exist yet (users and roles): password sign-in not exercised');
  } else {
    assert.equal(probe.status, 200, `POST /api/v1/login as admin → ${probe.status}: ${await probe.text()}`);
    await page
      .getByRole('button', { name: 'Sign in with username and password' })
      .click()
      .catch(() => undefined);
    await page.fill('#login-username', 'admin');
    await page.fill('#login-password', 'not-the-password');
    await page.press('#login-password', 'Enter');
    await page.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await page.fill('#login-password', ADMIN_PASSWORD);
    await page.press('#login-password', 'Enter');
    await page.waitForURL(`${base}/sensors`);
    await page.getByText('(admin)').waitFor();
    // Preferences: every input labelled; a saved theme applies at once.
    await page.getByRole('link', { name: 'admin', exact: true }).click();
    await page.waitForURL(`${base}/preferences`);
    await page.getByLabel('Theme').waitFor();
    await assertAllLabelled(page, 'preferences');
    await page.getByLabel('Theme').selectOption('light');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Preferences saved.').waitFor();
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    await screenshot(page, '08-preferences');
    await assertAccessible(page, 'preferences');
    // Admin pages follow the role: add a user, then find it in the audit log.
    await navTo(page, 'Users');
    await page.locator('tr[data-user="admin"]').waitFor();
    await assertAllLabelled(page, 'users');
    await page.fill('#new-username', 'viewer-e2e');
    await page.selectOption('#new-role', 'viewer');
    await page.fill('#new-password', 'a long enough password');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.locator('tr[data-user="viewer-e2e"]').waitFor();
    await screenshot(page, '09-admin-users');
    await assertAccessible(page, 'admin-users');
    await navTo(page, 'Audit log');
    await assertAllLabelled(page, 'audit log');
    await page.locator('tr[data-action="user.create"]').first().waitFor();
    await page.locator('tr[data-action="login"]').first().waitFor();
    await navTo(page, 'Logs');
    await page.locator('tr[data-level="info"]').first().waitFor();
    await assertAllLabelled(page, 'logs');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
  }

  assert.deepEqual(pageErrors, [], 'no uncaught errors in the page');
  await context.close();
  await collector.stop();
});
