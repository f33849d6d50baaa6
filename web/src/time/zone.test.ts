import { describe, expect, test } from 'vitest';
import { formatAgo, formatDuration, instantToWall, wallToInstant, zoneOffsetMs } from './zone.js';
import { resolveRange } from './range.js';

describe('time zones', () => {
  test('wall time in a zone → instant, both sides of a DST change', () => {
    expect(wallToInstant('2026-01-15T12:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 0, 15, 11, 0));
    expect(wallToInstant('2026-07-15T12:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 15, 10, 0));
    expect(wallToInstant('2026-07-15T12:00:30', 'America/New_York')).toBe(Date.UTC(2026, 6, 15, 16, 0, 30));
    expect(wallToInstant('2026-07-15T12:00', 'UTC')).toBe(Date.UTC(2026, 6, 15, 12, 0));
  });

  test('a wall time inside the spring-forward gap moves forward', () => {
    // 2026-03-29 02:30 does not exist in Berlin (02:00 → 03:00): 03:30 CEST = 01:30 UTC.
    expect(wallToInstant('2026-03-29T02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30));
  });

  test('instant → wall time round-trips', () => {
    const t = Date.UTC(2026, 10, 28, 6, 5);
    for (const tz of ['UTC', 'Europe/Berlin', 'Asia/Kolkata', 'America/Los_Angeles', 'Australia/Lord_Howe']) {
      expect(wallToInstant(instantToWall(t, tz), tz)).toBe(t);
    }
    expect(instantToWall(t, 'Asia/Kolkata')).toBe('2026-11-28T11:35');
    expect(zoneOffsetMs(t, 'Asia/Kolkata')).toBe(5.5 * 3_600_000);
  });

  test('bad input names what was wrong', () => {
    expect(() => wallToInstant('yesterday', 'UTC')).toThrow(/not a date and time: "yesterday"/);
    expect(() => resolveRange({ kind: 'relative', key: '2y' }, 0)).toThrow(/unknown relative range "2y"/);
    expect(() => resolveRange({ kind: 'absolute', from: 5, to: 5 }, 0)).toThrow(/before its end/);
  });

  test('durations and ages read naturally', () => {
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5_000)).toBe('3 d 4 h');
    expect(formatDuration(12 * 60_000)).toBe('12 min');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(0)).toBe('0 s');
    expect(formatAgo(1_000, 1_500)).toBe('just now');
    expect(formatAgo(0, 90_000)).toBe('1 min ago');
    expect(resolveRange({ kind: 'relative', key: '1h' }, 7_200_000)).toEqual({ from: new Date(3_600_000), to: new Date(7_200_000) });
  });
});
