/** A sensor status as a coloured badge with its word (colour is never the only signal). */
import type { JSX } from 'solid-js';
import type { SensorStatus } from '../api/types.js';

export function StatusBadge(props: { status: SensorStatus; title?: string | null }): JSX.Element {
  return (
    <span class={`badge badge-${props.status}`} title={props.title ?? undefined} data-status={props.status}>
      {props.status}
    </span>
  );
}
