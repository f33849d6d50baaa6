/** Log viewer (admin): the collector's recent structured log lines, newest first, by level and component. */
import { For, Show, type JSX } from 'solid-js';
import { useApp } from '../context.jsx';
import { formatDateTime } from '../time/zone.js';
import { LOG_LEVELS, levelName, loadLogs } from './admin-logs.data.js';

export default function LogsPage(): JSX.Element {
  const app = useApp();
  const logs = loadLogs(app);

  function apply(e: SubmitEvent): void {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const component = String(f.get('component')).trim();
    logs.setQuery({ level: String(f.get('level')), ...(component ? { component } : {}) });
  }

  return (
    <section aria-labelledby="logs-title">
      <h1 id="logs-title">Logs</h1>
      <form class="toolbar" onSubmit={apply} aria-label="Filter the logs">
        <label for="logs-level">Minimum level</label>
        <select id="logs-level" name="level">
          <For each={LOG_LEVELS}>
            {(l) => (
              <option value={l} selected={l === 'info'}>
                {l}
              </option>
            )}
          </For>
        </select>
        <label for="logs-component">Component</label>
        <input id="logs-component" name="component" placeholder="http, broker, ingest…" />
        <button type="submit">Show</button>
        <button type="button" onClick={() => void logs.refetch()}>
          Refresh
        </button>
      </form>
      <Show when={logs.lines.error}>
        <p role="alert">Could not load the logs: {(logs.lines.error as Error).message}</p>
      </Show>
      <div class="table-scroll">
        <table aria-labelledby="logs-title">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Level</th>
              <th scope="col">Component</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={logs.lines.latest ?? []}
              fallback={
                <tr>
                  <td colspan="4">No lines.</td>
                </tr>
              }
            >
              {(line) => (
                <tr data-level={levelName(line.level)}>
                  <td>{typeof line.time === 'number' ? formatDateTime(line.time, app.preferences.timeZone()) : String(line.time ?? '')}</td>
                  <td>{levelName(line.level)}</td>
                  <td>{String(line.component ?? '')}</td>
                  <td>
                    <code>{String(line.msg ?? '')}</code>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
    </section>
  );
}
