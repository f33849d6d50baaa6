/**
 * Users (admin): list, add (username, role, password), change role, disable/enable, delete (after
 * a confirmation dialog). Every change goes to the collector, which audits it; its refusals (the
 * last enabled admin, a duplicate name) are shown as they come.
 */
import { createSignal, For, Show, type JSX } from 'solid-js';
import type { Role, UserView } from '../api/types.js';
import { Modal } from '../components/modal.jsx';
import { useToasts } from '../components/toasts.jsx';
import { useApp } from '../context.jsx';
import { ROLE_RANK } from '../nav.js';
import { formatDateTime } from '../time/zone.js';
import { loadUsers } from './admin-users.data.js';

/** Every role, least privileged first. */
const ROLES = Object.keys(ROLE_RANK) as Role[];

export default function UsersPage(): JSX.Element {
  const app = useApp();
  const toasts = useToasts();
  const data = loadUsers(app);
  const [error, setError] = createSignal<string | null>(null);
  const [confirmDelete, setConfirmDelete] = createSignal<UserView | null>(null);

  async function act(what: () => Promise<unknown>, done: string): Promise<boolean> {
    setError(null);
    try {
      await what();
      await data.refetch();
      toasts.show({ kind: 'success', text: done });
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    }
  }

  async function add(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const f = new FormData(form);
    const username = String(f.get('username')).trim();
    const ok = await act(
      () => app.api.createUser({ username, role: String(f.get('role')) as Role, password: String(f.get('password')) }),
      `User ${username} added.`,
    );
    if (ok) form.reset();
  }

  const when = (iso: string | null) => (iso ? formatDateTime(Date.parse(iso), app.preferences.timeZone()) : 'never');

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <p class="field-error" role="alert">
        {error() ?? ''}
      </p>
      <Show when={data.users.error}>
        <p role="alert">Could not load users: {(data.users.error as Error).message}</p>
      </Show>
      <div class="table-scroll">
        <table aria-labelledby="users-title">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Source</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <For each={data.users.latest ?? []}>
              {(u) => (
                <tr data-user={u.username}>
                  <td>{u.username}</td>
                  <td>
                    <select
                      aria-label={`Role of ${u.username}`}
                      onChange={(e) =>
                        void act(
                          () => app.api.updateUser(u.username, { role: e.currentTarget.value as Role }),
                          `${u.username} is now ${e.currentTarget.value}.`,
                        )
                      }
                    >
                      <For each={ROLES}>
                        {(r) => (
                          <option value={r} selected={r === u.role}>
                            {r}
                          </option>
                        )}
                      </For>
                    </select>
                  </td>
                  <td>{u.source}</td>
                  <td>{when(u.lastLoginAt)}</td>
                  <td>{u.disabled ? 'disabled' : 'active'}</td>
                  <td class="actions">
                    <button
                      type="button"
                      onClick={() =>
                        void act(() => app.api.updateUser(u.username, { disabled: !u.disabled }), `${u.username} ${u.disabled ? 'enabled' : 'disabled'}.`)
                      }
                    >
                      {u.disabled ? 'Enable' : 'Disable'} <span class="visually-hidden">{u.username}</span>
                    </button>
                    <button type="button" onClick={() => setConfirmDelete(u)}>
                      Delete <span class="visually-hidden">{u.username}</span>
                    </button>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>

      <h2 id="add-user-title">Add a user</h2>
      <form class="card prefs-form" aria-labelledby="add-user-title" onSubmit={(e) => void add(e)}>
        <label for="new-username">Username</label>
        <input id="new-username" name="username" required autocomplete="off" pattern="[a-z0-9][a-z0-9._@\-]{0,63}" />
        <label for="new-role">Role</label>
        <select id="new-role" name="role">
          <For each={ROLES}>{(r) => <option value={r}>{r}</option>}</For>
        </select>
        <label for="new-password">Password</label>
        <input id="new-password" name="password" type="password" required minLength={10} autocomplete="new-password" />
        <button type="submit" class="primary">
          Add user
        </button>
      </form>

      <Modal
        open={confirmDelete() !== null}
        title={`Delete ${confirmDelete()?.username ?? ''}?`}
        onClose={() => setConfirmDelete(null)}
        actions={
          <>
            <button type="button" onClick={() => setConfirmDelete(null)}>
              Cancel
            </button>
            <button
              type="button"
              class="primary"
              onClick={() => {
                const u = confirmDelete();
                setConfirmDelete(null);
                if (u) void act(() => app.api.deleteUser(u.username), `User ${u.username} deleted.`);
              }}
            >
              Delete
            </button>
          </>
        }
      >
        <p>The user's sessions end at once. This cannot be undone.</p>
      </Modal>
    </section>
  );
}
