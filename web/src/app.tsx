/**
 * The application: services (API client, session, fleet, preferences, live feed), the router and
 * the signed-in shell. The live feed runs only while a session holds a token and reconnects with
 * the current token; every (re)connect reloads the fleet snapshot.
 */
import { Navigate, Route, Router, type RouteSectionProps } from '@solidjs/router';
import { createEffect, createSignal, lazy, on, onCleanup, Show, type JSX } from 'solid-js';
import { makeApiClient } from './api/client.js';
import { createLiveFeed, type LiveFeed } from './api/live.js';
import type { LiveMessage } from './api/types.js';
import { Shell } from './components/shell.jsx';
import { ToastProvider } from './components/toasts.jsx';
import { AppContext, useApp, type AppServices } from './context.jsx';
import { FleetPage } from './pages/fleet.jsx';
import { LoginPage } from './pages/login.jsx';
import { NotFoundPage } from './pages/not-found.jsx';
import { SensorsPage } from './pages/sensors.jsx';
import { createFleet } from './state/fleet.js';
import { createJobFeed } from './state/jobs.js';
import { JobToasts } from './components/job-toasts.jsx';
import { createPreferences } from './state/preferences.js';
import { createSession } from './state/session.js';

// The detail page pulls in the chart code path: its own chunk.
const SensorPage = lazy(() => import('./pages/sensor.jsx'));
const PreferencesPage = lazy(() => import('./pages/preferences.jsx'));
const UsersPage = lazy(() => import('./pages/admin-users.jsx'));
const AuditPage = lazy(() => import('./pages/admin-audit.jsx'));
const LogsPage = lazy(() => import('./pages/admin-logs.jsx'));
// The jobs pages (form, analysis) are their own chunks: the initial JavaScript stays small.
const JobsPage = lazy(() => import('./pages/jobs.jsx'));
const JobNewPage = lazy(() => import('./pages/job-new.jsx'));
const JobPage = lazy(() => import('./pages/job.jsx'));
// The network page is a chunk of its own; the globe (globe.gl) is a further chunk it imports on mount.
const NetworkPage = lazy(() => import('./pages/network.jsx'));
const SystemPage = lazy(() => import('./pages/admin-system.jsx'));
const StoragePage = lazy(() => import('./pages/admin-storage.jsx'));
const AccessPage = lazy(() => import('./pages/admin-access.jsx'));

export function createServices(): AppServices {
  // Late-bound: the client asks the session for the token, the session calls the client to log in.
  const holder: { session?: AppServices['session'] } = {};
  const api = makeApiClient({
    auth: { token: () => holder.session?.token() ?? null, refresh: () => holder.session?.refresh() ?? Promise.resolve(false) },
  });
  const session = createSession({ api });
  holder.session = session;
  const fleet = createFleet(api);
  const preferences = createPreferences(api);
  const jobFeed = createJobFeed();
  const [live, setLive] = createSignal<LiveFeed>();

  // Signed in ⇔ a live feed exists; a token change (refresh) does not reconnect: the feed reads the
  // current token at its next reconnect.
  createEffect(
    on(
      () => session.token() !== null,
      (signedIn) => {
        if (!signedIn) {
          preferences.reset();
          return;
        }
        void preferences.load().catch(() => undefined);
        // Created under this effect: closed by its own onCleanup when the user signs out.
        const onMessage = (m: LiveMessage) => {
          fleet.apply(m);
          jobFeed.emit(m);
        };
        setLive(createLiveFeed({ token: () => session.token(), onMessage }));
        onCleanup(() => setLive(undefined));
      },
    ),
  );
  return { api, session, fleet, preferences, jobFeed, live };
}

function RequireSession(props: RouteSectionProps): JSX.Element {
  const { session } = useApp();
  return (
    <Show when={session.user()} fallback={<Navigate href={`/login?next=${encodeURIComponent(props.location.pathname + props.location.search)}`} />}>
      <JobToasts />
      <Shell>{props.children}</Shell>
    </Show>
  );
}

export function App(props: { services: AppServices; ready: () => boolean }): JSX.Element {
  return (
    <AppContext.Provider value={props.services}>
      <ToastProvider>
        <Show when={props.ready()} fallback={<p class="boot">Loading…</p>}>
          <Router>
            <Route path="/login" component={LoginPage} />
            <Route path="/" component={RequireSession}>
              <Route path="/" component={FleetPage} />
              <Route path="/sensors" component={SensorsPage} />
              <Route path="/sensors/:name" component={SensorPage} />
              <Route path="/jobs" component={JobsPage} />
              <Route path="/jobs/new" component={JobNewPage} />
              <Route path="/jobs/:id" component={JobPage} />
              <Route path="/network" component={NetworkPage} />
              <Route path="/preferences" component={PreferencesPage} />
              <Route path="/admin/users" component={UsersPage} />
              <Route path="/admin/audit" component={AuditPage} />
              <Route path="/admin/logs" component={LogsPage} />
              <Route path="/admin/system" component={SystemPage} />
              <Route path="/admin/storage" component={StoragePage} />
              <Route path="/admin/access" component={AccessPage} />
              <Route path="*" component={NotFoundPage} />
            </Route>
          </Router>
        </Show>
      </ToastProvider>
    </AppContext.Provider>
  );
}
