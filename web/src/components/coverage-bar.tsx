/**
 * A target sensor's coverage of a job window: the sensor's PCAP availability (covered spans filled,
 * gaps hatched, as the availability bar draws them) on one scale with the requested window drawn
 * over it as an outlined box, and the plan's gaps inside the window marked. The scale spans the
 * availability and the window, so a window in the future or before the oldest packet shows as such.
 * A text alternative names the coverage and the number of gaps.
 */
import { createMemo, For, type JSX } from 'solid-js';
import type { PlanEntry, SensorView } from '../api/types.js';
import { coveredSpans, gapsBetween } from '../state/fleet-math.js';

export function CoverageBar(props: {
  sensor: Pick<SensorView, 'name' | 'pcap'> | undefined;
  window: { from: number; to: number };
  entry: PlanEntry;
}): JSX.Element {
  const spans = createMemo(() => (props.sensor ? coveredSpans(props.sensor) : []));
  const start = () => Math.min(props.window.from, spans()[0]?.from ?? props.window.from);
  const end = () => Math.max(props.window.to, spans()[spans().length - 1]?.to ?? props.window.to);
  const width = () => Math.max(1, end() - start());
  const pct = (ms: number) => ((ms - start()) / width()) * 100;
  const box = (from: number, to: number) => ({ left: `${pct(from)}%`, width: `max(2px, ${pct(to) - pct(from)}%)` });
  const availGaps = createMemo(() => gapsBetween(spans()));
  const planGaps = () => props.entry.coverage.gaps.map((g) => ({ from: Date.parse(g.from), to: Date.parse(g.to) }));
  const summary = () =>
    `${props.entry.sensor}: ${Math.round(props.entry.coverage.fraction * 100)} % of the window covered, ${planGaps().length} gap${planGaps().length === 1 ? '' : 's'} in it`;
  return (
    <div class="avail coverage" role="img" aria-label={summary()} title={summary()} data-sensor={props.entry.sensor}>
      <For each={spans()}>{(s) => <div class="avail-span" style={box(s.from, s.to)} />}</For>
      <For each={availGaps()}>{(g) => <div class="avail-gap" style={box(g.from, g.to)} />}</For>
      <For each={planGaps()}>{(g) => <div class="coverage-gap" data-gap style={box(g.from, g.to)} />}</For>
      <div class="coverage-window" data-window style={box(props.window.from, props.window.to)} />
    </div>
  );
}
