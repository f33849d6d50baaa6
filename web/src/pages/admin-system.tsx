/**
 * System status (admin): versions, uptime, database, broker (and its refusals by limit), ingest
 * counters, live feed, audit and the login throttle, from GET /admin/system/status; "Refresh"
 * reloads it.
 */
import { createResource, For, Show, type JSX } from 'solid-js';
import { useApp } from '../context.jsx';
import '../styles/network.css';
import { formatBytes } from '../state/jobs.js';
import { formatDateTime, formatDuration } from '../time/zone.js';

/** A definition list of a flat record (booleans and numbers shown as they are). */
function Facts(props: { title: string; id: string; facts: [string, unknown][] }): JSX.Element {
  return (
    <section class="card" aria-labelledby={props.id} data-card={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      <dl class="facts">
        <For each={props.facts}>
          {([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd data-fact={k}>{typeof v === 'number' ? v.toLocaleString() : typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
            </>
          )}
        </For>
      </dl>
    </section>
  );
}

export default function SystemPage(): JSX.Element {
  const app = useApp();
  const [status, { refetch }] = createResource(() => app.api.systemStatus());
  return (
    <section aria-labelledby="system-title">
      <h1 id="system-title">System status</h1>
      <button type="button" onClick={() => void refetch()}>
        Refresh
      </button>
      <Show when={status.error}>
        <p role="alert">Could not load the status: {(status.error as Error).message}</p>
      </Show>
      <Show when={status()}>
        {(s) => (
          <div class="cards">
            <Facts
              title="Collector"
              id="sys-collector"
              facts={[
                ['version', s().versions.collector],
                ['Node.js', s().versions.node],
                ['started', formatDateTime(Date.parse(s().startedAt), app.preferences.timeZone())],
                ['uptime', formatDuration(s().uptimeSeconds * 1000)],
              ]}
            />
            <Facts
              title="Database"
              id="sys-database"
              facts={[
                ['kind', s().database.kind],
                ['size', formatBytes(s().database.bytes)],
              ]}
            />
            <Facts title="Broker" id="sys-broker" facts={Object.entries(s().broker).filter(([k]) => k !== 'limits')} />
            {/* Connections and publishes the embedded broker refused by limit (docs/mqtt.md "Limits"). */}
            <Show when={s().broker.limits as Record<string, number> | undefined}>
              {(limits) => <Facts title="Broker refusals" id="sys-broker-limits" facts={Object.entries(limits())} />}
            </Show>
            <Facts
              title="Ingest"
              id="sys-ingest"
              facts={[
                ['accepted', s().messages.accepted],
                ['rejected', s().messages.rejected],
                ['per second', s().messages.perSecond],
                ['live-feed clients', s().queues.liveFeedClients],
                ['live-feed messages sent', s().queues.liveFeedSent],
                ['audit entries recorded', s().audit.recorded],
                ['audit entries failed', s().audit.failed],
              ]}
            />
            <Facts title="Login throttle" id="sys-logins" facts={Object.entries(s().logins)} />
          </div>
        )}
      </Show>
    </section>
  );
}
