/**
 * What every page reaches through `useApp()`: the API client, the session, the fleet store (kept
 * live by the feed while signed in), preferences and toasts.
 */
import { createContext, useContext } from 'solid-js';
import type { ApiClient } from './api/client.js';
import type { LiveFeed } from './api/live.js';
import type { Fleet } from './state/fleet.js';
import type { JobFeed } from './state/jobs.js';
import type { PreferencesState } from './state/preferences.js';
import type { Session } from './state/session.js';

export interface AppServices {
  api: ApiClient;
  session: Session;
  fleet: Fleet;
  preferences: PreferencesState;
  /** Job and task events of the live feed (and its `hello`), for the pages that watch jobs. */
  jobFeed: JobFeed;
  /** The live feed while signed in. */
  live: () => LiveFeed | undefined;
}

export const AppContext = createContext<AppServices>();

export function useApp(): AppServices {
  const app = useContext(AppContext);
  if (!app) throw new Error('useApp() needs the <AppContext.Provider> of app.tsx above it');
  return app;
}
