/**
 * Exclusive PID lock on a directory (the embedded PGlite data dir): two processes opening the same
 * PGlite files corrupt them, so the second opener must be refused.
 *
 * The lock is a file holding `{ pid, hostname, startedAt }`, created atomically (link of a
 * finished temp file, which fails when the lock exists). A lock left by a dead process on this
 * host is stale and taken over; a lock of a live process — this one included — is refused.
 */
import { hostname } from 'node:os';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';

export interface DirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

interface LockInfo {
  pid: number;
  hostname: string;
  startedAt: string;
}

export class LockedError extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockInfo | null,
  ) {
    const who = holder ? `process ${holder.pid} on ${holder.hostname} (since ${holder.startedAt})` : 'an unreadable lock file';
    super(`${path} is locked by ${who}; another collector is using this data directory (remove the file only if that process is gone)`);
    this.name = 'LockedError';
  }
}

/** Takes the lock at `path` (e.g. `<dataDir>/db.lock`) or throws LockedError. */
export function acquireLock(path: string): DirLock {
  const me: LockInfo = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString() };
  const text = JSON.stringify(me);
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temp, text, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        linkSync(temp, path);
        return makeLock(path, text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create lock ${path}`, { cause: err });
      }
      const holder = readHolder(path);
      if (holder === undefined) continue; // vanished between link and read: try again
      if (holder === null || isAlive(holder)) throw new LockedError(path, holder);
      // Stale: its process is gone. Remove only if it is still that same stale file.
      if (readFileSafe(path) === JSON.stringify(holder)) unlinkQuiet(path);
    }
    throw new LockedError(path, readHolder(path) ?? null);
  } finally {
    unlinkQuiet(temp);
  }
}

function makeLock(path: string, text: string): DirLock {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      if (readFileSafe(path) === text) unlinkQuiet(path);
    },
  };
}

/** The lock's holder; null when the file is unreadable garbage; undefined when it is gone. */
function readHolder(path: string): LockInfo | null | undefined {
  const text = readFileSafe(path);
  if (text === undefined) return undefined;
  try {
    const info = JSON.parse(text) as LockInfo;
    return typeof info.pid === 'number' && typeof info.hostname === 'string' ? info : null;
  } catch {
    return null;
  }
}

/** Same host: probe the pid. Another host: we cannot tell, so treat it as alive. */
function isAlive(info: LockInfo): boolean {
  if (info.hostname !== hostname()) return true;
  try {
    process.kill(info.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readFileSafe(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
