/** A job or task status as a badge with its word (colour is never the only signal). */
import type { JSX } from 'solid-js';

export function JobStatusBadge(props: { status: string; title?: string | null }): JSX.Element {
  return (
    <span class={`badge job-badge job-${props.status}`} title={props.title ?? undefined} data-status={props.status}>
      {props.status}
    </span>
  );
}
