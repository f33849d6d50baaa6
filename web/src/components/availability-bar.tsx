/**
 * The PCAP availability window of a sensor: a bar from its oldest to its newest packet, covered
 * spans filled and gaps drawn as hatched holes. Text for screen readers names the window and the
 * number of gaps.
 */
import { createMemo, For, Show, type JSX } from 'solid-js';
import type { SensorView } from '../api/types.js';
import { coveredSpans, gapsBetween } from '../state/fleet-math.js';
import { formatDuration } from '../time/zone.js';

export function AvailabilityBar(props: { sensor: Pick<SensorView, 'name' | 'pcap'> }): JSX.Element {
  const spans = createMemo(() => coveredSpans(props.sensor));
  const start = () => spans()[0]?.from ?? 0;
  const end = () => spans()[spans().length - 1]?.to ?? 0;
  const width = () => Math.max(1, end() - start());
  const pos = (ms: number) => `${((ms - start()) / width()) * 100}%`;
  const gaps = createMemo(() => gapsBetween(spans()));
  const summary = () => `${props.sensor.name}: ${formatDuration(end() - start())} of PCAP, ${gaps().length} gap${gaps().length === 1 ? '' : 's'}`;
  return (
    <Show when={spans().length > 0} fallback={<span class="avail-empty">no PCAP</span>}>
      <div class="avail" role="img" aria-label={summary()} title={summary()}>
        <For each={spans()}>{(s) => <div class="avail-span" style={{ left: pos(s.from), width: `calc(${pos(s.to)} - ${pos(s.from)})` }} />}</For>
        <For each={gaps()}>
          {(g) => <div class="avail-gap" data-gap style={{ left: pos(g.from), width: `max(2px, calc(${pos(g.to)} - ${pos(g.from)}))` }} />}
        </For>
      </div>
    </Show>
  );
}
