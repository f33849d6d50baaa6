/**
 * A progress bar (role="progressbar" with its value in percent for screen readers) and the percent
 * as text beside it, so colour and width are never the only signal.
 */
import type { JSX } from 'solid-js';

export function ProgressBar(props: { fraction: number; label: string; state?: string }): JSX.Element {
  const pct = () => Math.round(Math.min(1, Math.max(0, props.fraction)) * 100);
  return (
    <span class="progress" data-state={props.state}>
      <span class="progress-track" role="progressbar" aria-label={props.label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct()}>
        <span class="progress-fill" style={{ width: `${pct()}%` }} />
      </span>
      <span class="progress-text">{pct()} %</span>
    </span>
  );
}
