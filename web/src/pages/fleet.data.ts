/**
 * Loader of the fleet dashboard and the sensors page: the fleet snapshot (sensors + recent
 * activity), loaded once and then kept current by the live feed. Calling it again only reloads
 * when nothing was loaded yet or the last load failed.
 */
import type { AppServices } from '../context.jsx';

export function loadFleet(app: Pick<AppServices, 'fleet'>): void {
  if (!app.fleet.loaded() || app.fleet.error()) void app.fleet.load();
}
