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
  const whole = isoSeconds(t.sec);
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

/**
 * "YYYY-MM-DDTHH:MM:SS" for any integer second count, also beyond Date's ±275,760-year range
 * (corrupt captures hold such times); civil-from-days after H. Hinnant.
 */
function isoSeconds(sec: number): string {
  const days = Math.floor(sec / 86_400);
  const rest = sec - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const two = (n: number) => String(n).padStart(2, '0');
  const yyyy = year < 0 ? `-${String(-year).padStart(4, '0')}` : String(year).padStart(4, '0');
  return `${yyyy}-${two(month)}-${two(day)}T${two(Math.floor(rest / 3600))}:${two(Math.floor((rest % 3600) / 60))}:${two(rest % 60)}`;
}
