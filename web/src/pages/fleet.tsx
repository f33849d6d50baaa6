/**
 * Fleet dashboard: sensors online / degraded / offline / never seen, total retained PCAP history,
 * disk alerts and recent status changes — all from the live fleet store.
 */
import { A } from '@solidjs/router';
import { createSignal, For, onCleanup, Show, type JSX } from 'solid-js';
import { StatusBadge } from '../components/status-badge.jsx';
import { useApp } from '../context.jsx';
import { formatAgo, formatDateTime, formatDuration } from '../time/zone.js';
import { loadFleet } from './fleet.data.js';

export function FleetPage(): JSX.Element {
  const app = useApp();
  const { fleet, preferences } = app;
  loadFleet(app);
  const [now, setNow] = createSignal(Date.now());
  const tick = setInterval(() => setNow(Date.now()), 5_000);
  onCleanup(() => clearInterval(tick));

  const cards = () =>
    [
      ['online', 'Online'],
      ['degraded', 'Degraded'],
      ['offline', 'Offline'],
      ['unknown', 'Never seen'],
    ] as const;

  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <Show when={fleet.error()}>
        <p class="field-error" role="alert">
          Could not load the fleet: {fleet.error()?.message}
        </p>
      </Show>
      <div class="cards">
        <For each={cards()}>
          {([status, label]) => (
            <div class={`card stat stat-${status}`} data-stat={status}>
              <span class="stat-label">{label}</span>
              <span class="stat-value">{fleet.counts()[status]}</span>
            </div>
          )}
        </For>
        <div class="card stat" data-stat="retained">
          <span class="stat-label">Retained PCAP history</span>
          <span class="stat-value">{formatDuration(fleet.retainedMs())}</span>
          <span class="stat-note">summed over {fleet.list().length} sensors</span>
        </div>
      </div>

      <div class="columns">
        <section class="card" aria-labelledby="alerts-title">
          <h2 id="alerts-title">Disk alerts</h2>
          <Show when={fleet.diskAlerts().length > 0} fallback={<p class="muted">No capture disk is 90 % full or more.</p>}>
            <ul class="plain-list">
              <For each={fleet.diskAlerts()}>
                {(a) => (
                  <li>
                    <A href={`/sensors/${encodeURIComponent(a.sensor)}`}>{a.sensor}</A> <code>{a.mount}</code> <strong>{Math.round(a.usedPercent)} %</strong>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        </section>

        <section class="card" aria-labelledby="activity-title">
          <h2 id="activity-title">Recent status changes</h2>
          <Show when={fleet.activity().length > 0} fallback={<p class="muted">No status changes yet.</p>}>
            <ol class="plain-list activity" aria-live="polite">
              <For each={fleet.activity().slice(0, 20)}>
                {(e) => (
                  <li data-sensor={e.sensor} data-to={e.to}>
                    <A href={`/sensors/${encodeURIComponent(e.sensor)}`}>{e.sensor}</A> <StatusBadge status={e.from} /> → <StatusBadge status={e.to} />{' '}
                    <span class="muted">{e.reason}</span>{' '}
                    <time datetime={e.at} title={formatDateTime(Date.parse(e.at), preferences.timeZone())}>
                      {formatAgo(Date.parse(e.at), now())}
                    </time>
                  </li>
                )}
              </For>
            </ol>
          </Show>
        </section>
      </div>
    </section>
  );
}
