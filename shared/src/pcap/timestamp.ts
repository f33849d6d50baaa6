/**
 * Timestamp helpers: ordering and ISO-8601 text with nanosecond digits. Pure.
 */
import type { Timestamp } from './types.js';

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.sec !== b.sec ? a.sec - b.sec : a.nsec - b.nsec;
}

/**
 * ISO-8601 UTC text with `digits` fraction digits (9 = ns, 6 = µs, truncated, like capinfos).
 * @example
 * formatTimestamp({ sec: 1413054930, nsec: 198203000 }, 6) // '2014-10-11T19:15:30.198203Z'
 */
export function formatTimestamp(t: Timestamp, digits = 9): string {
  const whole = new Date(t.sec * 1000).toISOString().slice(0, 19);
  if (digits <= 0) return `${whole}Z`;
  const frac = String(t.nsec).padStart(9, '0').slice(0, digits);
  return `${whole}.${frac}Z`;
}

/** Seconds as a decimal string with 9 fraction digits (exact; no float rounding). */
export function timestampToDecimal(t: Timestamp): string {
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`;
}

/** A copy that outlives the reader's flyweight PacketView. */
export function copyTimestamp(t: Timestamp): Timestamp {
  return { sec: t.sec, nsec: t.nsec };
}
