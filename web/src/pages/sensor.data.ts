/**
 * Loader of the sensor detail page: the sensor (live, from the fleet store, fetched when the store
 * does not have it), its devices (refetched whenever its status changes), and its health series
 * over the chosen range (refetched when the range changes, and every minute for relative ranges).
 */
import { createResource, createSignal, onCleanup, type Accessor } from 'solid-js';
import type { AppServices } from '../context.jsx';
import { DEFAULT_RANGE, resolveRange, type TimeRange } from '../time/range.js';

export function loadSensor(app: Pick<AppServices, 'api' | 'fleet'>, name: Accessor<string>) {
  const [range, setRange] = createSignal<TimeRange>(DEFAULT_RANGE);
  const [tick, setTick] = createSignal(0);
  const timer = setInterval(() => {
    if (range().kind === 'relative') setTick((t) => t + 1);
  }, 60_000);
  onCleanup(() => clearInterval(timer));

  const [fetched] = createResource(
    () => (app.fleet.state.sensors[name()] ? null : name()),
    (n) => app.api.sensor(n),
  );
  const sensor = () => app.fleet.state.sensors[name()] ?? fetched();

  const [devices, { refetch: refetchDevices }] = createResource(
    () => ({ name: name(), status: sensor()?.status, changed: sensor()?.statusChangedAt }),
    async (key) => (await app.api.devices(key.name)).devices,
  );

  const [health] = createResource(
    () => ({ name: name(), range: range(), tick: tick() }),
    async (key) => {
      const { from, to } = resolveRange(key.range, Date.now());
      const { points } = await app.api.healthSeries(key.name, from, to, 600);
      return { points, from: from.getTime(), to: to.getTime() };
    },
  );

  return { sensor, fetchError: () => fetched.error as Error | undefined, devices, refetchDevices, health, range, setRange };
}
