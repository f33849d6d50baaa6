import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { every } from './every.js';

test('runs at once by default, then ms after each run ends; never two at once', async () => {
  let active = 0;
  let most = 0;
  let runs = 0;
  const stop = every(
    'slow',
    5,
    async () => {
      runs += 1;
      active += 1;
      most = Math.max(most, active);
      await sleep(20); // outlasts the period
      active -= 1;
    },
    () => undefined,
  );
  await sleep(5);
  assert.equal(runs, 1, 'the first run starts at once');
  await sleep(80);
  await stop();
  assert.equal(most, 1, 'no overlap');
  assert.ok(runs >= 2 && runs <= 4, `runs spaced by run time + period, got ${runs}`);
});

test('firstAfterMs delays the first run', async () => {
  let runs = 0;
  const stop = every(
    'late',
    5,
    () => (runs += 1),
    () => undefined,
    40,
  );
  await sleep(20);
  assert.equal(runs, 0);
  await sleep(40);
  assert.ok(runs >= 1);
  await stop();
});

test('stop waits for the run in progress and nothing runs afterwards', async () => {
  let finished = false;
  let runs = 0;
  const stop = every(
    'job',
    1,
    async () => {
      runs += 1;
      await sleep(30);
      finished = true;
    },
    () => undefined,
  );
  await sleep(5);
  await stop();
  assert.equal(finished, true, 'stop resolved after the run ended');
  const after = runs;
  await sleep(20);
  assert.equal(runs, after);
  await stop(); // again: harmless
});

test('a failing run goes to the callback or the logger, and the schedule goes on', async () => {
  const seen: [string, string][] = [];
  let calls = 0;
  const stop = every(
    'flaky',
    2,
    () => {
      calls += 1;
      if (calls <= 2) throw new Error(`boom ${calls}`);
    },
    (err, name) => seen.push([name, (err as Error).message]),
  );
  await sleep(40);
  await stop();
  assert.deepEqual(seen, [
    ['flaky', 'boom 1'],
    ['flaky', 'boom 2'],
  ]);
  assert.ok(calls > 2, 'runs after the failures');

  const warned: { obj: object; msg: string }[] = [];
  const stopLogged = every('rejecting', 1_000, () => Promise.reject(new Error('no')), { warn: (obj, msg) => warned.push({ obj, msg }) });
  await sleep(10);
  await stopLogged();
  assert.equal(warned.length, 1);
  assert.equal(warned[0]!.msg, 'rejecting failed');
  assert.equal((warned[0]!.obj as { job: string }).job, 'rejecting');
});
