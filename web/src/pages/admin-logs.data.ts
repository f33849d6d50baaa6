/**
 * Loader of the log viewer (admin): GET /admin/logs with a minimum level and a component, newest
 * shown first; pino levels (10 trace … 60 fatal) named.
 */
import { createResource, createSignal } from 'solid-js';
import type { AppServices } from '../context.jsx';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** pino's numeric level → its name ('info' for 30); unknown numbers as they are. */
export function levelName(level: unknown): string {
  return typeof level === 'number' ? (LOG_LEVELS[level / 10 - 1] ?? String(level)) : String(level ?? '');
}

export function loadLogs(app: Pick<AppServices, 'api'>) {
  const [query, setQuery] = createSignal<{ level?: string; component?: string }>({ level: 'info' });
  const [lines, { refetch }] = createResource(query, async (q) => (await app.api.logs({ ...q, limit: 500 })).lines.slice().reverse());
  return { lines, refetch, query, setQuery };
}
