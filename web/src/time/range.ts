/**
 * Time ranges of the range picker: relative ("last 1 hour", moving with now) or absolute (two
 * instants). Resolved to [from, to] only when a query runs.
 */

export interface RelativeRange {
  kind: 'relative';
  key: string;
}

export interface AbsoluteRange {
  kind: 'absolute';
  /** ms since epoch. */
  from: number;
  to: number;
}

export type TimeRange = RelativeRange | AbsoluteRange;

export const RELATIVE_RANGES: readonly { key: string; label: string; ms: number }[] = [
  { key: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { key: '1h', label: 'Last hour', ms: 3_600_000 },
  { key: '6h', label: 'Last 6 hours', ms: 6 * 3_600_000 },
  { key: '24h', label: 'Last 24 hours', ms: 24 * 3_600_000 },
  { key: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { key: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
];

export const DEFAULT_RANGE: RelativeRange = { kind: 'relative', key: '1h' };

/** [from, to] of `range` at `now`. Throws on an unknown relative key or an absolute range with from ≥ to. */
export function resolveRange(range: TimeRange, now: number): { from: Date; to: Date } {
  if (range.kind === 'relative') {
    const def = RELATIVE_RANGES.find((r) => r.key === range.key);
    if (!def) throw new Error(`unknown relative range ${JSON.stringify(range.key)} (known: ${RELATIVE_RANGES.map((r) => r.key).join(', ')})`);
    return { from: new Date(now - def.ms), to: new Date(now) };
  }
  if (!(range.from < range.to)) throw new Error('the start of the range must be before its end');
  return { from: new Date(range.from), to: new Date(range.to) };
}
