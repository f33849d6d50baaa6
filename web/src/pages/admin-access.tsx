/**
 * Sensors and access (admin): register a sensor or re-enrol one — the one-time
 * `pcapmesh-agent enroll …` command is shown once, to copy; rotate a sensor's MQTT secret (shown
 * once); revoke it (two steps); integrations (MQTT clients of other tools) and API tokens, each
 * created with its secret shown once, and deleted.
 */
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import type { Role } from '../api/types.js';
import { useToasts } from '../components/toasts.jsx';
import { useApp } from '../context.jsx';
import '../styles/network.css';
import { formatDateTime } from '../time/zone.js';

/** The command a sensor's operator runs to redeem an enrolment token. */
export function enrolCommand(collectorUrl: string, token: string): string {
  return `pcapmesh-agent enroll --collector ${collectorUrl} --token ${token}`;
}

interface Secret {
  title: string;
  text: string;
  note: string;
}

export default function AccessPage(): JSX.Element {
  const app = useApp();
  const toasts = useToasts();
  const [integrations, { refetch: refetchIntegrations }] = createResource(async () => (await app.api.integrations()).integrations);
  const [tokens, { refetch: refetchTokens }] = createResource(async () => (await app.api.apiTokens()).tokens);
  const [secret, setSecret] = createSignal<Secret | null>(null);
  const [confirmRevoke, setConfirmRevoke] = createSignal<string | null>(null);
  const sensors = () =>
    app.fleet
      .list()
      .map((s) => s.name)
      .sort();
  const tz = () => app.preferences.timeZone();

  async function run(fn: () => Promise<void>, failure: string): Promise<void> {
    try {
      await fn();
    } catch (err) {
      toasts.show({ kind: 'error', text: `${failure}: ${(err as Error).message}` });
    }
  }
  const field = (e: SubmitEvent, k: string) => String(new FormData(e.currentTarget as HTMLFormElement).get(k) ?? '').trim();

  function enrolSecret(sensor: string, token: string, expiresAt: string): void {
    setSecret({
      title: `Enrol ${sensor}`,
      text: enrolCommand(window.location.origin, token),
      note: `Run this on the sensor; the token works once, until ${formatDateTime(Date.parse(expiresAt), tz())}.`,
    });
  }

  function addSensor(e: SubmitEvent): void {
    e.preventDefault();
    const name = field(e, 'name');
    const location = field(e, 'location');
    if (!name) return void toasts.show({ kind: 'error', text: 'A sensor needs a name.' });
    void run(async () => {
      const res = await app.api.createSensor({ name, ...(location ? { location } : {}) });
      enrolSecret(name, res.enrolment.token, res.enrolment.expiresAt);
      void app.fleet.load();
    }, `Could not register ${name}`);
  }

  function addIntegration(e: SubmitEvent): void {
    e.preventDefault();
    const name = field(e, 'name');
    if (!name) return void toasts.show({ kind: 'error', text: 'An integration needs a name.' });
    void run(async () => {
      const res = await app.api.createIntegration(name);
      setSecret({ title: `Integration ${name}`, text: res.secret, note: `MQTT username ${res.username}; this password is shown once.` });
      void refetchIntegrations();
    }, `Could not create the integration ${name}`);
  }

  function addToken(e: SubmitEvent): void {
    e.preventDefault();
    const name = field(e, 'name');
    const role = field(e, 'role') as Role;
    if (!name) return void toasts.show({ kind: 'error', text: 'An API token needs a name.' });
    void run(async () => {
      const res = await app.api.createApiToken(name, role);
      setSecret({ title: `API token ${name} (${res.role})`, text: res.token, note: 'Send it as Authorization: Bearer …; it is shown once.' });
      void refetchTokens();
    }, `Could not create the API token ${name}`);
  }

  async function copy(text: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text);
      toasts.show({ kind: 'success', text: 'Copied.' });
    } catch {
      toasts.show({ kind: 'error', text: 'The browser refused the clipboard: select the text and copy it.' });
    }
  }

  return (
    <section aria-labelledby="access-title">
      <h1 id="access-title">Sensors and access</h1>
      <Show when={secret()}>
        {(s) => (
          <div class="secret card" role="status" data-secret={s().title}>
            <h2>{s().title}</h2>
            <pre>
              <code data-secret-text>{s().text}</code>
            </pre>
            <p>{s().note}</p>
            <button type="button" onClick={() => void copy(s().text)}>
              Copy
            </button>{' '}
            <button type="button" onClick={() => setSecret(null)}>
              Done
            </button>
          </div>
        )}
      </Show>

      <h2 id="enrol-title">Sensors</h2>
      <form class="toolbar" onSubmit={addSensor} aria-labelledby="enrol-title">
        <label for="new-sensor-name">Name</label>
        <input id="new-sensor-name" name="name" placeholder="edge-1" />
        <label for="new-sensor-location">Location</label>
        <input id="new-sensor-location" name="location" placeholder="optional" />
        <button type="submit">Register and enrol</button>
      </form>
      <div class="table-scroll">
        <table aria-labelledby="enrol-title">
          <thead>
            <tr>
              <th scope="col">Sensor</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={sensors()}
              fallback={
                <tr>
                  <td colspan="2">No sensors.</td>
                </tr>
              }
            >
              {(name) => (
                <tr data-sensor={name}>
                  <td>{name}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        void run(async () => {
                          const t = await app.api.enrolmentToken(name);
                          enrolSecret(name, t.token, t.expiresAt);
                        }, `Could not issue an enrolment token for ${name}`)
                      }
                    >
                      Re-enrol
                    </button>{' '}
                    <button
                      type="button"
                      onClick={() =>
                        void run(async () => {
                          const r = await app.api.rotateSensor(name);
                          setSecret({
                            title: `New secret of ${name}`,
                            text: r.secret,
                            note: 'Put it in the agent’s configuration (mqtt.password); the old one no longer works.',
                          });
                        }, `Could not rotate ${name}'s secret`)
                      }
                    >
                      Rotate secret
                    </button>{' '}
                    <Show
                      when={confirmRevoke() === name}
                      fallback={
                        <button type="button" onClick={() => setConfirmRevoke(name)}>
                          Revoke
                        </button>
                      }
                    >
                      <button
                        type="button"
                        class="danger"
                        onClick={() =>
                          void run(async () => {
                            await app.api.revokeSensor(name);
                            setConfirmRevoke(null);
                            toasts.show({ kind: 'success', text: `${name} revoked: it can no longer connect.` });
                          }, `Could not revoke ${name}`)
                        }
                      >
                        Confirm revoking {name}
                      </button>
                    </Show>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>

      <h2 id="integrations-title">Integrations</h2>
      <form class="toolbar" onSubmit={addIntegration} aria-labelledby="integrations-title">
        <label for="new-integration">Name</label>
        <input id="new-integration" name="name" placeholder="siem" />
        <button type="submit">Add integration</button>
      </form>
      <Show when={integrations.error}>
        <p role="alert">Could not load the integrations: {(integrations.error as Error).message}</p>
      </Show>
      <div class="table-scroll">
        <table aria-labelledby="integrations-title">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">MQTT username</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={integrations() ?? []}
              fallback={
                <tr>
                  <td colspan="4">No integrations.</td>
                </tr>
              }
            >
              {(i) => (
                <tr data-integration={i.name}>
                  <td>{i.name}</td>
                  <td>
                    <code>{i.username}</code>
                  </td>
                  <td>
                    {formatDateTime(Date.parse(i.createdAt), tz())} {i.createdBy ? `by ${i.createdBy}` : ''}
                  </td>
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        void run(async () => {
                          await app.api.deleteIntegration(i.name);
                          void refetchIntegrations();
                        }, `Could not delete ${i.name}`)
                      }
                    >
                      Delete {i.name}
                    </button>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>

      <h2 id="tokens-title">API tokens</h2>
      <form class="toolbar" onSubmit={addToken} aria-labelledby="tokens-title">
        <label for="new-token-name">Name</label>
        <input id="new-token-name" name="name" placeholder="ci" />
        <label for="new-token-role">Role</label>
        <select id="new-token-role" name="role">
          <option value="viewer">viewer</option>
          <option value="analyst">analyst</option>
          <option value="admin">admin</option>
        </select>
        <button type="submit">Create token</button>
      </form>
      <Show when={tokens.error}>
        <p role="alert">Could not load the API tokens: {(tokens.error as Error).message}</p>
      </Show>
      <div class="table-scroll">
        <table aria-labelledby="tokens-title">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={tokens() ?? []}
              fallback={
                <tr>
                  <td colspan="3">No API tokens.</td>
                </tr>
              }
            >
              {(t) => (
                <tr data-token={t.name}>
                  <td>{t.name}</td>
                  <td>{t.role}</td>
                  <td>
                    <button
                      type="button"
                      onClick={() =>
                        void run(async () => {
                          await app.api.deleteApiToken(t.name);
                          void refetchTokens();
                        }, `Could not delete ${t.name}`)
                      }
                    >
                      Delete {t.name}
                    </button>
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
