/** Audit log (admin): sign-ins, job and user changes, newest first, filtered by action, actor and outcome. */
import { For, Show, type JSX } from 'solid-js';
import { useApp } from '../context.jsx';
import { formatDateTime } from '../time/zone.js';
import { loadAudit } from './admin-audit.data.js';

export default function AuditPage(): JSX.Element {
  const app = useApp();
  const audit = loadAudit(app);

  function filter(e: SubmitEvent): void {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    void audit.apply({ action: String(f.get('action')).trim(), actor: String(f.get('actor')).trim(), outcome: String(f.get('outcome')) });
  }

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form class="toolbar" onSubmit={filter} aria-label="Filter the audit log">
        <label for="audit-action">Action</label>
        <input id="audit-action" name="action" placeholder="login. (prefix) or user.create" />
        <label for="audit-actor">Actor</label>
        <input id="audit-actor" name="actor" placeholder="username" />
        <label for="audit-outcome">Outcome</label>
        <select id="audit-outcome" name="outcome">
          <option value="">any</option>
          <option value="ok">ok</option>
          <option value="denied">denied</option>
          <option value="failed">failed</option>
        </select>
        <button type="submit">Filter</button>
      </form>
      <Show when={audit.error()}>
        <p role="alert">Could not load the audit log: {audit.error()?.message}</p>
      </Show>
      <div class="table-scroll">
        <table aria-labelledby="audit-title">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={audit.entries()}
              fallback={
                <tr>
                  <td colspan="6">No entries.</td>
                </tr>
              }
            >
              {(e) => (
                <tr data-action={e.action}>
                  <td>{formatDateTime(Date.parse(e.at), app.preferences.timeZone())}</td>
                  <td>{e.actor ?? '–'}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.target ?? '–'}</td>
                  <td>{e.outcome}</td>
                  <td>{e.sourceIp ?? '–'}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <Show when={audit.next()}>
        <button type="button" onClick={() => void audit.more()}>
          Older entries
        </button>
      </Show>
    </section>
  );
}
