/**
 * Time-window bounds for extract: ISO 8601 (`2026-01-01T09:00:00.123456789Z`, offsets allowed,
 * up to 9 fraction digits) or epoch seconds (`1767258000.5`), parsed exactly to {sec, nsec}.
 */
import type { Timestamp } from './types.js';

const ISO = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/i;
const EPOCH = /^(\d+)(?:\.(\d{1,9}))?$/;

/** Parses one bound; throws an Error naming `what` and the accepted forms on bad text. */
export function parseTimeBound(text: string, what = 'time'): Timestamp {
  const epoch = EPOCH.exec(text.trim());
  if (epoch) return { sec: Number(epoch[1]), nsec: Number((epoch[2] ?? '').padEnd(9, '0')) };
  const iso = ISO.exec(text.trim());
  if (iso) {
    const [, date, hh, mm, ss = '00', frac = '', zone] = iso;
    const offset = zone!.toUpperCase() === 'Z' ? 'Z' : `${zone!.slice(0, 3)}:${zone!.slice(-2)}`;
    const ms = Date.parse(`${date}T${hh}:${mm}:${ss}${offset}`);
    if (!Number.isNaN(ms)) return { sec: Math.floor(ms / 1000), nsec: Number(frac.padEnd(9, '0')) };
  }
  throw new Error(`${what} '${text}' is not a time: use ISO 8601 with a zone (2026-01-01T09:00:00.5Z) or epoch seconds (1767258000.5)`);
}
