/**
 * Coverage of a capture source: merge the [first, last] packet-time intervals of its files and
 * report the gaps, i.e. spaces between merged intervals longer than a threshold. Pure.
 *
 * Two consecutive files of a tcpdump ring never touch exactly (the next file starts with the
 * next packet), so intervals closer than the threshold count as continuous.
 *
 * @example
 *   coverage([{ first: a, last: b }, { first: c, last: d }], 120) // → { oldest: a, newest: d, gaps: [{ from: b, to: c }] } when c − b > 120 s
 */
import { compareTimestamps } from '@pcapmesh/shared/pcap/timestamp';
import type { Timestamp } from '@pcapmesh/shared/pcap';

export interface Interval {
  first: Timestamp;
  last: Timestamp;
}

export interface Coverage {
  oldest: Timestamp | null;
  newest: Timestamp | null;
  gaps: { from: Timestamp; to: Timestamp }[];
}

/** b − a in seconds (float; precise enough to compare with a threshold). */
export function secondsBetween(a: Timestamp, b: Timestamp): number {
  return b.sec - a.sec + (b.nsec - a.nsec) / 1e9;
}

/**
 * @param gapSeconds spaces longer than this are gaps
 * @param maxGaps keep at most this many gaps, the most recent ones
 */
export function coverage(intervals: Interval[], gapSeconds: number, maxGaps = 1000): Coverage {
  const sorted = intervals
    .map((i) => (compareTimestamps(i.first, i.last) <= 0 ? i : { first: i.last, last: i.first }))
    .sort((a, b) => compareTimestamps(a.first, b.first));
  const first = sorted[0];
  if (!first) return { oldest: null, newest: null, gaps: [] };
  const gaps: Coverage['gaps'] = [];
  let end = first.last;
  for (const i of sorted.slice(1)) {
    if (secondsBetween(end, i.first) > gapSeconds) gaps.push({ from: end, to: i.first });
    if (compareTimestamps(i.last, end) > 0) end = i.last;
  }
  return { oldest: first.first, newest: end, gaps: gaps.slice(-maxGaps) };
}
