/**
 * Loader of the network page: GET /network/locations over the chosen range (default the last 24 h)
 * and GET /network/subnets; both refetched after an admin change (pin, unpin, location edit,
 * clear-cache).
 */
import { createResource, createSignal } from 'solid-js';
import type { AppServices } from '../context.jsx';

export function loadNetwork(app: Pick<AppServices, 'api'>, initialHours = 24) {
  const [hours, setHours] = createSignal(initialHours);
  const [locations, { refetch: refetchLocations }] = createResource(hours, (h) => {
    const to = new Date();
    return app.api.networkLocations({ from: new Date(to.getTime() - h * 3_600_000).toISOString(), to: to.toISOString() });
  });
  const [subnets, { refetch: refetchSubnets }] = createResource(async () => (await app.api.networkSubnets()).subnets);
  return {
    hours,
    setHours,
    locations,
    subnets,
    refetch(): void {
      void refetchLocations();
      void refetchSubnets();
    },
  };
}
