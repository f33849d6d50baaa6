/**
 * "Still being written": a capture whose modification time is within the last `settleMs`
 * (default 10 s) is considered open by its writer (tcpdump -G / dumpcap ring buffers touch the
 * current file continuously). Such files are not indexed: an index of a growing file would be
 * stale at once. They are indexed on a later run, once quiet.
 */
import { statSync } from 'node:fs';

export const DEFAULT_SETTLE_MS = 10_000;

export function isStillBeingWritten(path: string, settleMs = DEFAULT_SETTLE_MS, now = Date.now()): boolean {
  return now - statSync(path).mtimeMs < settleMs;
}
