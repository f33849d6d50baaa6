import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, LockedError } from './lock.js';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'lock-')), 'db.lock');

test('a held lock refuses a second taker (this process included) and is free again after release', () => {
  const path = lockPath();
  const lock = acquireLock(path);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  assert.throws(
    () => acquireLock(path),
    (err) => err instanceof LockedError && err.message.includes(`process ${process.pid}`),
  );
  lock.release();
  assert.equal(existsSync(path), false);
  lock.release(); // idempotent
  acquireLock(path).release();
});

test('a stale lock of a dead process is taken over', () => {
  const path = lockPath();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout);
  assert.ok(deadPid > 0);
  writeFileSync(path, JSON.stringify({ pid: deadPid, hostname: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }));
  const lock = acquireLock(path);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
  lock.release();
});

test('a lock of another host or an unreadable lock is never taken over', () => {
  const path = lockPath();
  writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'elsewhere.example', startedAt: '2026-01-01T00:00:00.000Z' }));
  assert.throws(() => acquireLock(path), /locked by process 1 on elsewhere\.example/);
  writeFileSync(path, 'garbage');
  assert.throws(() => acquireLock(path), /locked by an unreadable lock file/);
});
