/**
 * Headless Debian Chromium for the dashboard's end-to-end tests (playwright-core; no browser is
 * ever downloaded). Flags as verified in STACK.md. Without /usr/bin/chromium the test FAILS in CI
 * and is skipped elsewhere (house rule).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inCi, repoRoot } from '../integration/harness.js';
import * as scripts from './page-scripts.js';

export const CHROMIUM = process.env.PCAPMESH_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-swiftshader',
];

/** Screenshots and measurements of the e2e tests (gitignored). */
export const e2eArtifacts = join(repoRoot, 'test-artifacts', 'e2e');

/**
 * Launches Chromium, or skips (outside CI) / throws (CI) when it is not installed. `extraArgs` are
 * added to the flags (`--disable-webgl` for the network page's fallback).
 */
export async function launchBrowser(t: TestContext, extraArgs: readonly string[] = []): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    const message = `Chromium is not installed at ${CHROMIUM} (apt: scripts/install-deps.sh)`;
    if (inCi()) throw new Error(`${message}; CI=true requires it`);
    t.skip(message);
    return null;
  }
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

/**
 * A browser context of the given viewport. tsx (esbuild keepNames) wraps named functions of the
 * test's source in `__name(fn, "name")`; page-scripts.ts functions travel to the page with those
 * calls, so the page gets a no-op `__name`.
 */
export async function newContext(browser: Browser, viewport: { width: number; height: number }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  return context;
}

/** Saves a full-page screenshot as test-artifacts/e2e/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(e2eArtifacts, { recursive: true });
  const path = join(e2eArtifacts, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Form controls of the page without an accessible label, as `tag#id[name]`. */
export function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(scripts.unlabelledControls);
}

/** What has keyboard focus: `tag#id "text"`. */
export function focused(page: Page): Promise<string> {
  return page.evaluate(scripts.focusedElement);
}

/** Presses Tab until `predicate(focused)` holds; throws after `max` presses naming what had focus. */
export async function tabTo(page: Page, predicate: (desc: string) => boolean, max = 25): Promise<string> {
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const desc = await focused(page);
    seen.push(desc);
    if (predicate(desc)) return desc;
  }
  throw new Error(`Tab never reached the wanted element; focus went: ${seen.join(' → ')}`);
}
