/**
 * Health history chart (CPU %, memory %, fullest disk %, load) drawn by uPlot on a canvas. uPlot
 * and its CSS are imported dynamically the first time a chart mounts, so they stay out of the
 * initial bundle. Colours come from the theme's CSS variables; the chart follows its container's
 * width. A text summary (min/avg/max per series) sits beside it for screen readers.
 */
import { createEffect, createSignal, onCleanup, onMount, Show, type JSX } from 'solid-js';
import type { HealthPoint } from '../api/types.js';
import { seriesOf, summarise } from './health-series.js';
import type uPlot from 'uplot';

type UPlotCtor = typeof uPlot;
type UPlotInstance = InstanceType<UPlotCtor>;

let loading: Promise<UPlotCtor> | undefined;
/** Loads uPlot once (code-split chunk). */
export function loadUPlot(): Promise<UPlotCtor> {
  loading ??= Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([m]) => m.default);
  return loading;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export interface HealthChartProps {
  points: readonly HealthPoint[];
  /** The queried range (ms): the x axis spans it even where there are no samples. */
  from: number;
  to: number;
  title: string;
}

export function HealthChart(props: HealthChartProps): JSX.Element {
  let holder!: HTMLDivElement;
  let chart: UPlotInstance | undefined;
  const [failed, setFailed] = createSignal<string | null>(null);
  const [UPlot, setUPlot] = createSignal<UPlotCtor>();

  onMount(() => {
    loadUPlot().then(
      (ctor) => setUPlot(() => ctor),
      (err: unknown) => setFailed(`charts could not be loaded: ${(err as Error).message}`),
    );
    const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(() => chart?.setSize({ width: holder.clientWidth, height: 260 })) : null;
    ro?.observe(holder);
    onCleanup(() => {
      ro?.disconnect();
      chart?.destroy();
    });
  });

  createEffect(() => {
    const Ctor = UPlot();
    const data = seriesOf(props.points);
    if (!Ctor) return;
    chart?.destroy();
    const text = cssVar('--fg-muted', '#888');
    const grid = cssVar('--border', '#ccc');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    chart = new Ctor(
      {
        width: holder.clientWidth || 600,
        height: 260,
        title: props.title,
        scales: { x: { time: true, range: () => [props.from / 1000, props.to / 1000] }, '%': { range: [0, 100] }, load: { auto: true } },
        series: [
          {},
          { label: 'CPU %', scale: '%', stroke: cssVar('--chart-1', '#2f7ed8'), width: 1.5 },
          { label: 'Memory %', scale: '%', stroke: cssVar('--chart-2', '#8e44ad'), width: 1.5 },
          { label: 'Disk %', scale: '%', stroke: cssVar('--chart-3', '#d35400'), width: 1.5 },
          { label: 'Load', scale: 'load', stroke: cssVar('--chart-4', '#16a085'), width: 1 },
        ],
        axes: [axis, { ...axis, scale: '%', label: '%' }, { ...axis, scale: 'load', side: 1, label: 'load' }],
      },
      data,
      holder,
    );
  });

  return (
    <figure class="chart">
      <div ref={holder} class="chart-canvas" data-chart={props.title} />
      <Show when={failed()}>
        <p role="alert">{failed()}</p>
      </Show>
      <figcaption class="visually-hidden">{summarise(props.points)}</figcaption>
    </figure>
  );
}
