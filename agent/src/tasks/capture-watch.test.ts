/**
 * The waiting check over a big capture directory: a waiting task looks every second whether its
 * files are closed, and that must not list (stat) every file each time on the agent's main thread.
 * Real files: the library's generator for the live ones, copies of a small capture for the many.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCapture } from '@pcapmesh/shared/pcap';
import { CaptureWatch } from './capture-watch.js';
import { closedAt, listCaptures, listingCounters } from './captures.js';
import { RunnerHarness, ts } from './runner.fixture.js';

const MANY = 2000;

/** `MANY` old one-second captures (a day ago) and one current file being written. */
function bigDirectory(dir: string, nowSec: number): { live: string } {
  mkdirSync(dir, { recursive: true });
  const template = join(dir, '..', 'template.pcap');
  writeCapture(template, { seed: 3, packets: 5, start: nowSec - 86_400, duration: 1 });
  for (let i = 0; i < MANY; i += 1) {
    const path = join(dir, `old-${String(i).padStart(5, '0')}.pcap`);
    copyFileSync(template, path);
    utimesSync(path, nowSec - 86_000, nowSec - 86_000);
  }
  const live = join(dir, 'zz-live.pcap');
  writeCapture(live, { seed: 4, packets: 50, start: nowSec - 20, duration: 20 });
  return { live };
}

test('the watch answers like a full listing while stat-ing a handful of files when nothing but the live file changed', () => {
  const root = mkdtempSync(join(tmpdir(), 'capture-watch-'));
  try {
    const now = Math.floor(Date.now() / 1000);
    const dir = join(root, 'pcap');
    const { live } = bigDirectory(dir, now);
    const sources = [{ name: 'eth0', directory: dir }];
    let clock = Date.now();
    const watch = new CaptureWatch(30_000, () => clock);
    assert.equal(watch.files(sources).length, MANY + 1);

    const before = listingCounters.filesStatted;
    for (let i = 0; i < 5; i += 1) watch.files(sources);
    assert.ok(listingCounters.filesStatted - before <= 5 * 3, `5 checks stat'ed ${listingCounters.filesStatted - before} files`);
    assert.deepEqual(watch.counters, { fullListings: 1, quickChecks: 5 });

    // The live file grows: seen (its size and mtime), without a listing.
    appendFileSync(live, readFileSync(live).subarray(24, 24 + 16 + 60));
    const grown = watch.files(sources).find((f) => f.path === live)!;
    assert.equal(grown.bytes, listCaptures(sources).find((f) => f.path === live)!.bytes);
    assert.equal(watch.counters.fullListings, 1);
    const to = ts(now + 1);
    assert.equal(closedAt(watch.files(sources), sources, to, 60_000, Date.now()), false, 'the live file changed just now');

    // The writer rotates: a new file starting after `to` appears — the directory changed, one listing.
    writeCapture(join(dir, 'zz-next.pcap'), { seed: 5, packets: 5, start: now + 2, duration: 1 });
    assert.equal(closedAt(watch.files(sources), sources, to, 60_000, Date.now()), true, 'the writer moved on');
    assert.equal(watch.counters.fullListings, 2);

    clock += 30_000;
    watch.files(sources);
    assert.equal(watch.counters.fullListings, 3, 'a full listing at least every fullEveryMs');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a task waiting over a big capture directory does not list it every second', async () => {
  const h = await new RunnerHarness().start();
  try {
    const now = Math.floor(Date.now() / 1000);
    bigDirectory(h.captures, now);
    // The window ended, but the live file is not quiet for a minute and closeDelayMs is far: it waits.
    const runner = h.startRunner({ closeDelayMs: 60_000, quietMs: 60_000 });
    runner.handleTask(h.command('big', { from: ts(now - 30), to: ts(now - 1) }));
    await h.until('waiting', () => h.last('big')?.status === 'waiting', 10_000);
    const before = listingCounters.filesStatted;
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const statted = listingCounters.filesStatted - before;
    assert.equal(h.last('big')?.status, 'waiting');
    // Three checks or so: a listing each would be ~3 x 2,000 stats.
    assert.ok(statted < 100, `${statted} files stat'ed while waiting 3.5 s over ${MANY} files`);
  } finally {
    await h.close();
  }
});
