/** Loader of the users page (admin): GET /admin/users, refetched after every change. */
import { createResource } from 'solid-js';
import type { AppServices } from '../context.jsx';

export function loadUsers(app: Pick<AppServices, 'api'>) {
  const [users, { refetch }] = createResource(async () => (await app.api.users()).users);
  return { users, refetch };
}
