import { render } from '@solidjs/testing-library';
import { describe, expect, test } from 'vitest';
import type { SensorView } from '../api/types.js';
import { coveredSpans, diskAlerts, gapsBetween, totalRetainedMs } from '../state/fleet-math.js';
import { AvailabilityBar } from './availability-bar.jsx';

/** Seconds → the API's ISO 8601 with nanoseconds. */
const ts = (sec: number) => `${new Date(sec * 1000).toISOString().slice(0, 19)}.000000000Z`;
function source(oldest: number, newest: number, gaps: [number, number][] = []) {
  return {
    name: 'eth0',
    directory: '/data',
    oldest: ts(oldest),
    newest: ts(newest),
    files: 1,
    bytes: 1,
    gaps: gaps.map(([f, t]) => ({ from: ts(f), to: ts(t) })),
    problems: [],
  };
}
function sensor(sources: ReturnType<typeof source>[]): Pick<SensorView, 'name' | 'pcap'> {
  return { name: 'edge-1', pcap: { oldest: null, newest: null, sources, updatedAt: null } };
}

describe('PCAP availability', () => {
  test('covered spans: a source minus its gaps, merged over sources', () => {
    expect(coveredSpans(sensor([source(0, 100, [[40, 60]])]))).toEqual([
      { from: 0, to: 40_000 },
      { from: 60_000, to: 100_000 },
    ]);
    // A second interface fills part of the first one's gap.
    const merged = coveredSpans(sensor([source(0, 100, [[40, 60]]), source(50, 120)]));
    expect(merged).toEqual([
      { from: 0, to: 40_000 },
      { from: 50_000, to: 120_000 },
    ]);
    expect(gapsBetween(merged)).toEqual([{ from: 40_000, to: 50_000 }]);
    expect(coveredSpans(sensor([]))).toEqual([]);
  });

  test('the bar draws each gap and names them for screen readers', () => {
    const { container, getByRole } = render(() => (
      <AvailabilityBar
        sensor={sensor([
          source(0, 3600, [
            [1000, 1200],
            [2000, 2100],
          ]),
        ])}
      />
    ));
    expect(container.querySelectorAll('[data-gap]')).toHaveLength(2);
    expect(getByRole('img').getAttribute('aria-label')).toBe('edge-1: 1 h of PCAP, 2 gaps');
  });

  test('no PCAP says so', () => {
    const { getByText } = render(() => <AvailabilityBar sensor={sensor([])} />);
    expect(getByText('no PCAP')).toBeTruthy();
  });

  test('fleet totals: retained history and disk alerts', () => {
    const iso = (s: number) => new Date(s * 1000).toISOString();
    const a = {
      name: 'a',
      pcap: { oldest: iso(0), newest: iso(3600), sources: [], updatedAt: null },
      disks: [{ mount: '/d', fs: 'x', size: 100, used: 95, available: 5, directories: [] }],
    };
    const b = {
      name: 'b',
      pcap: { oldest: null, newest: null, sources: [], updatedAt: null },
      disks: [{ mount: '/e', fs: 'x', size: 100, used: 50, available: 50, directories: [] }],
    };
    expect(totalRetainedMs([a, b])).toBe(3_600_000);
    expect(diskAlerts([a, b])).toEqual([{ sensor: 'a', mount: '/d', usedPercent: 95 }]);
  });
});
