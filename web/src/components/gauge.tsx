/**
 * A horizontal percent gauge (role="meter"): green below `warn`, amber from `warn`, red from
 * `alert`. Null shows "–" (no data yet).
 */
import { Show, type JSX } from 'solid-js';

export interface GaugeProps {
  label: string;
  value: number | null;
  warn?: number;
  alert?: number;
}

export function gaugeLevel(value: number, warn: number, alert: number): 'ok' | 'warn' | 'alert' {
  return value >= alert ? 'alert' : value >= warn ? 'warn' : 'ok';
}

export function Gauge(props: GaugeProps): JSX.Element {
  const pct = () => Math.max(0, Math.min(100, props.value ?? 0));
  return (
    <Show
      when={props.value !== null}
      fallback={
        <span class="gauge-empty" aria-label={`${props.label}: no data yet`}>
          –
        </span>
      }
    >
      <div
        class={`gauge gauge-${gaugeLevel(pct(), props.warn ?? 75, props.alert ?? 90)}`}
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct())}
        aria-valuetext={`${Math.round(pct())}%`}
      >
        <div class="gauge-fill" style={{ width: `${pct()}%` }} />
        <span class="gauge-text">{Math.round(pct())}%</span>
      </div>
    </Show>
  );
}
