/**
 * Measurements of the browser tests (never asserted as timings): collected into
 * test-artifacts/e2e/budget-<key>.json and copied by hand into bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eArtifacts } from './browser.js';

/**
 * Writes `values` to test-artifacts/e2e/budget-<key>.json (one file per key: the e2e tests may run
 * in parallel) and prints them.
 */
export function recordBudget(key: string, values: Record<string, unknown>): void {
  mkdirSync(e2eArtifacts, { recursive: true });
  writeFileSync(join(e2eArtifacts, `budget-${key}.json`), `${JSON.stringify({ ...values, measuredAt: new Date().toISOString() }, null, 2)}\n`);
  console.log(`[budget] ${key}: ${JSON.stringify(values)}`);
}

/** p50 / p95 / max of frame times, and how many frames missed 60 Hz and 30 Hz. */
export function frameStats(deltas: readonly number[]): Record<string, number> {
  const sorted = [...deltas].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    frames: sorted.length,
    p50Ms: round(at(0.5)),
    p95Ms: round(at(0.95)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    over17Ms: sorted.filter((d) => d > 17).length,
    over33Ms: sorted.filter((d) => d > 33.4).length,
  };
}
