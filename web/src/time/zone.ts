/**
 * Time-zone arithmetic with Intl only (no library): the dashboard shows and takes times in the
 * user's time zone (preference, else the browser's).
 *
 * @example
 *   wallToInstant('2026-03-29T02:30', 'Europe/Berlin'); // a gap hour: resolves to 03:30 CEST
 *   instantToWall(Date.UTC(2026, 0, 1, 12), 'America/New_York'); // '2026-01-01T07:00'
 */

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

/** The browser's time zone. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** True when `timeZone` is an IANA name Intl knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    partsFormatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

function wallParts(ms: number, timeZone: string): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  const out: Record<string, number> = {};
  for (const p of partsFormatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;
}

/** Offset of `timeZone` from UTC at instant `ms`, in ms (CEST → +7,200,000). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const p = wallParts(ms, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const WALL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant of wall-clock time `wall` ('YYYY-MM-DDTHH:mm[:ss]', as a datetime-local input gives
 * it) in `timeZone`. Throws naming the input when it is not such a time. A wall time that does not
 * exist (spring-forward gap) moves forward by the gap, as clocks do.
 */
export function wallToInstant(wall: string, timeZone: string): number {
  const m = WALL.exec(wall);
  if (!m) throw new Error(`not a date and time: ${JSON.stringify(wall)} (expected YYYY-MM-DDTHH:mm)`);
  const [, y, mo, d, h, mi, s] = m;
  const asUtc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  const first = asUtc - zoneOffsetMs(asUtc, timeZone);
  const second = asUtc - zoneOffsetMs(first, timeZone);
  return second;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** 'YYYY-MM-DDTHH:mm' of instant `ms` in `timeZone` (the value format of datetime-local inputs). */
export function instantToWall(ms: number, timeZone: string): string {
  const p = wallParts(ms, timeZone);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

const displayFormatters = new Map<string, Intl.DateTimeFormat>();

/** "28 Nov 2026, 07:05:09" in `timeZone`. */
export function formatDateTime(ms: number, timeZone: string): string {
  let f = displayFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, { timeZone, dateStyle: 'medium', timeStyle: 'medium', hourCycle: 'h23' });
    displayFormatters.set(timeZone, f);
  }
  return f.format(new Date(ms));
}

/** "3 d 4 h", "12 min", "45 s": the two largest units of a duration. */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1_000],
  ];
  if (ms < 1000) return '0 s';
  const parts: string[] = [];
  let rest = ms;
  for (const [label, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || parts.length > 0) {
      if (n > 0) parts.push(`${n} ${label}`);
      rest -= n * size;
      if (parts.length === 2 || (parts.length === 1 && n === 0)) break;
    }
  }
  return parts.slice(0, 2).join(' ');
}

/** "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function formatAgo(ms: number, now: number): string {
  const d = now - ms;
  if (d < 2_000) return 'just now';
  return `${formatDuration(d).split(' ').slice(0, 2).join(' ')} ago`;
}
