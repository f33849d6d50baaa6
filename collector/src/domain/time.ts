/** Time conversions between the wire (Timestamp, ms) and the views (ISO 8601). */
import type { Timestamp } from '@pcapmesh/shared/wire';

/** ISO 8601 with microseconds (PostgreSQL's timestamptz precision): 2026-01-02T03:04:05.123456Z. */
export function timestampToIso(ts: Timestamp): string {
  const micros = Math.floor(ts.nsec / 1000);
  const base = new Date(ts.sec * 1000).toISOString(); // ...:05.000Z
  return `${base.slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

/** ISO 8601 with all nine digits of the nanoseconds: 2026-01-02T03:04:05.123456789Z (capture times keep their precision). */
export function timestampToIsoNanos(ts: Timestamp): string {
  const base = new Date(ts.sec * 1000).toISOString();
  return `${base.slice(0, 19)}.${String(ts.nsec).padStart(9, '0')}Z`;
}

/** Earlier of two Timestamps. */
export function minTimestamp(a: Timestamp, b: Timestamp): Timestamp {
  return a.sec < b.sec || (a.sec === b.sec && a.nsec <= b.nsec) ? a : b;
}

export function maxTimestamp(a: Timestamp, b: Timestamp): Timestamp {
  return minTimestamp(a, b) === a ? b : a;
}

export function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}
