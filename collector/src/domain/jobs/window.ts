/**
 * Nanosecond time for jobs: a window is [from, to) in nanoseconds since the epoch (bigint), the
 * wire carries `{sec, nsec}`, the database µs timestamptz (plus the nanoseconds as text), views ISO.
 */
import type { Timestamp } from '@pcapmesh/shared/wire';
import { timestampToIso } from '../time.js';

export const NS_PER_SECOND = 1_000_000_000n;
export const NS_PER_MS = 1_000_000n;

export function nsOfTimestamp(ts: Timestamp): bigint {
  return BigInt(ts.sec) * NS_PER_SECOND + BigInt(ts.nsec);
}

export function timestampOfNs(ns: bigint): Timestamp {
  let sec = ns / NS_PER_SECOND;
  let nsec = ns % NS_PER_SECOND;
  if (nsec < 0n) {
    sec -= 1n;
    nsec += NS_PER_SECOND;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

export function nsOfDate(d: Date): bigint {
  return BigInt(d.getTime()) * NS_PER_MS;
}

/** The Date at or before `ns` (milliseconds; sub-ms parts dropped). */
export function dateOfNs(ns: bigint): Date {
  const ms = ns / NS_PER_MS;
  return new Date(Number(ns < 0n && ns % NS_PER_MS !== 0n ? ms - 1n : ms));
}

/** ISO 8601 with microseconds (what timestamptz keeps). */
export function isoOfNs(ns: bigint): string {
  return timestampToIso(timestampOfNs(ns));
}

/** The window as views and the plan show it. */
export function windowView(w: { from: bigint; to: bigint }): { from: string; to: string; fromNs: string; toNs: string } {
  return { from: isoOfNs(w.from), to: isoOfNs(w.to), fromNs: w.from.toString(), toNs: w.to.toString() };
}

export interface Interval {
  from: bigint;
  to: bigint;
}

/** Sorted, merged union of intervals (empty ones dropped). */
export function union(intervals: Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.to > i.from).sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.from <= last.to) {
      if (i.to > last.to) last.to = i.to;
    } else {
      out.push({ ...i });
    }
  }
  return out;
}

/** `a` minus the union of `holes`, sorted. */
export function subtract(a: Interval, holes: Interval[]): Interval[] {
  const out: Interval[] = [];
  let cursor = a.from;
  for (const h of union(holes)) {
    if (h.to <= cursor || h.from >= a.to) continue;
    if (h.from > cursor) out.push({ from: cursor, to: h.from });
    cursor = h.to > cursor ? h.to : cursor;
    if (cursor >= a.to) break;
  }
  if (cursor < a.to) out.push({ from: cursor, to: a.to });
  return out;
}

export function intersect(a: Interval, b: Interval): Interval | null {
  const from = a.from > b.from ? a.from : b.from;
  const to = a.to < b.to ? a.to : b.to;
  return to > from ? { from, to } : null;
}

export function length(intervals: Interval[]): bigint {
  return intervals.reduce((sum, i) => sum + (i.to - i.from), 0n);
}
