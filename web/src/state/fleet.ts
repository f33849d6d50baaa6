/**
 * The fleet as the dashboard sees it: every sensor (GET /sensors) with its latest health
 * (`latestHealth`: the newest stored sample in the snapshot, then each live sample), and recent
 * status changes (GET /sensors/activity + live), kept current by `apply()`-ing live-feed messages.
 *
 * - `hello` (every (re)connect of the feed) reloads the snapshot: nothing missed stays missing. A
 *   live sample newer than the snapshot's (it arrived while the request was under way) is kept.
 * - `sensor.status` updates the sensor in place and prepends an activity entry; an unknown sensor
 *   (registered since the snapshot) triggers a reload.
 * - `sensor.health` replaces the sensor's `latestHealth` (unless it is older) and updates its
 *   disks and last seen.
 */
import { batch, createMemo, createSignal } from 'solid-js';
import { createStore, produce, reconcile } from 'solid-js/store';
import type { ApiClient } from '../api/client.js';
import type { ActivityEntry, LatestHealth, LiveMessage, SensorView } from '../api/types.js';
import { countByStatus, diskAlerts, totalRetainedMs } from './fleet-math.js';

export const ACTIVITY_LIMIT = 50;

export type Fleet = ReturnType<typeof createFleet>;

/** The newer of two samples (by the agent's sending time); `a` on a tie. */
function newer(a: LatestHealth | null, b: LatestHealth | null): LatestHealth | null {
  if (!a || !b) return a ?? b;
  return Date.parse(b.at) > Date.parse(a.at) ? b : a;
}

export function createFleet(api: Pick<ApiClient, 'sensors' | 'activity'>) {
  const [state, setState] = createStore<{ sensors: Record<string, SensorView> }>({ sensors: {} });
  const [activity, setActivity] = createSignal<ActivityEntry[]>([]);
  const [loaded, setLoaded] = createSignal(false);
  const [error, setError] = createSignal<Error | null>(null);
  let loading: Promise<void> | null = null;

  function load(): Promise<void> {
    loading ??= Promise.all([api.sensors(), api.activity(ACTIVITY_LIMIT)])
      .then(([{ sensors }, { entries }]) => {
        batch(() => {
          const merged = sensors.map((s) => {
            const live = state.sensors[s.name]?.latestHealth;
            return { ...s, latestHealth: newer(s.latestHealth, live ? { ...live } : null) };
          });
          setState('sensors', reconcile(Object.fromEntries(merged.map((s) => [s.name, s]))));
          setActivity(entries);
          setLoaded(true);
          setError(null);
        });
      })
      .catch((err: unknown) => {
        setError(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  function apply(message: LiveMessage): void {
    switch (message.type) {
      case 'hello':
        void load();
        return;
      case 'sensor.status': {
        if (!state.sensors[message.sensor]) {
          void load();
          return;
        }
        batch(() => {
          setState(
            'sensors',
            message.sensor,
            produce((s) => {
              s.status = message.status;
              s.statusReason = message.reason;
              s.statusChangedAt = message.at;
              if (!s.lastSeen || s.lastSeen < message.at) s.lastSeen = message.at;
            }),
          );
          setActivity((list) =>
            [{ sensor: message.sensor, from: message.previous, to: message.status, reason: message.reason, at: message.at }, ...list].slice(0, ACTIVITY_LIMIT),
          );
        });
        return;
      }
      case 'sensor.health': {
        if (!state.sensors[message.sensor]) return;
        const sample: LatestHealth = {
          at: message.at,
          cpu: message.cpu,
          memoryUsed: message.memoryUsed,
          memoryTotal: message.memoryTotal,
          load1: message.load1,
        };
        batch(() => {
          setState(
            'sensors',
            message.sensor,
            produce((s) => {
              s.latestHealth = newer(sample, s.latestHealth);
              s.lastSeen = new Date().toISOString();
              const byMount = new Map(s.disks.map((d) => [d.mount, d]));
              for (const d of message.disks) {
                const known = byMount.get(d.mount);
                if (known) {
                  known.size = d.size;
                  known.used = d.used;
                  known.available = Math.max(0, d.size - d.used);
                }
              }
            }),
          );
        });
        return;
      }
    }
  }

  const list = createMemo(() => Object.values(state.sensors).sort((a, b) => a.name.localeCompare(b.name)));

  return {
    state,
    list,
    activity,
    loaded,
    error,
    load,
    apply,
    counts: createMemo(() => countByStatus(list())),
    retainedMs: createMemo(() => totalRetainedMs(list())),
    diskAlerts: createMemo(() => diskAlerts(list())),
  };
}
