/**
 * The automated accessibility check of the dashboard's browser tests: axe-core (the npm package,
 * run inside the page) over the whole document. Every violation is written to
 * test-artifacts/e2e/axe-<name>.json; the check fails on any of impact "serious" or "critical",
 * naming the rule, its help text and the elements.
 *
 * axe's source is evaluated through the DevTools protocol (page.evaluate), which the collector's
 * Content-Security-Policy (script-src 'self') does not govern; the page's own scripts are unchanged.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { e2eArtifacts } from './browser.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Impacts that fail the check. */
const BLOCKING = new Set(['serious', 'critical']);

/** Runs axe-core in `page` (WCAG 2.x A/AA and best-practice rules) and returns its violations. */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  // A string, not a function: the root tsconfig has no DOM lib (see page-scripts.ts).
  return page.evaluate<AxeViolation[]>(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
    result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    })))`);
}

/**
 * Checks the page as it is now: writes every violation to axe-<name>.json and fails on a serious or
 * critical one. Returns the violations of lesser impact (for the test's diagnostics).
 */
export async function assertAccessible(page: Page, name: string): Promise<AxeViolation[]> {
  const violations = await axeViolations(page);
  mkdirSync(e2eArtifacts, { recursive: true });
  writeFileSync(join(e2eArtifacts, `axe-${name}.json`), `${JSON.stringify({ url: page.url(), violations }, null, 2)}\n`);
  const blocking = violations.filter((v) => BLOCKING.has(v.impact ?? ''));
  assert.deepEqual(
    blocking.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`),
    [],
    `axe-core on ${name} (${page.url()})`,
  );
  return violations.filter((v) => !BLOCKING.has(v.impact ?? ''));
}
