/**
 * The sensors table and the sensor page show CPU and memory as soon as they open: the gauges start
 * from `latestHealth` of the snapshot (GET /sensors, GET /sensors/:name), before any live health
 * sample, and a live sample then replaces it. The fleet store and the pages are the real ones; the
 * snapshot is answered here as the collector's SensorView type says (that the collector fills
 * `latestHealth` is tested in collector/src/domain/sensors/sensors.service.test.ts and, through its HTTP
 * app into the fleet store, in state/fleet.test.ts — the collector does not run under happy-dom).
 */
import { Route, Router } from '@solidjs/router';
import { render, screen, waitFor } from '@solidjs/testing-library';
import { createRoot } from 'solid-js';
import { describe, expect, test } from 'vitest';
import type { ApiClient } from '../api/client.js';
import type { LatestHealth, SensorView } from '../api/types.js';
import { AppContext, type AppServices } from '../context.jsx';
import { createFleet, type Fleet } from '../state/fleet.js';
import SensorPage from './sensor.jsx';
import { SensorsPage } from './sensors.jsx';

const AT = '2026-03-10T12:00:00.000Z';

function sensor(name: string, latestHealth: LatestHealth | null): SensorView {
  return {
    name,
    location: 'lab',
    status: 'online',
    statusReason: 'birth',
    statusChangedAt: AT,
    version: '1.0.0',
    hostname: name,
    capabilities: [],
    lastSeen: AT,
    registeredAt: AT,
    disks: [],
    interfaces: [],
    pcap: { oldest: null, newest: null, sources: [], updatedAt: null },
    clockOffsetMs: null,
    latestHealth,
  };
}

const snapshot = [sensor('edge-1', { at: AT, cpu: 42, memoryUsed: 2_000, memoryTotal: 8_000, load1: 0.5 }), sensor('edge-2', null)];
// edge-2 reports one capture source, 12 of its 14 files indexed, one damaged file.
snapshot[1]!.pcap = {
  oldest: '2026-03-10T10:00:00.000Z',
  newest: '2026-03-10T11:59:00.000Z',
  updatedAt: AT,
  sources: [
    {
      name: 'eth1',
      directory: '/var/lib/pcapmesh/eth1',
      oldest: '2026-03-10T10:00:00.000000000Z',
      newest: '2026-03-10T11:59:00.000000000Z',
      files: 15,
      bytes: 1.5 * 2 ** 30,
      gaps: [],
      indexedFiles: 12,
      unindexedFiles: 2,
      problems: [{ file: '/var/lib/pcapmesh/eth1/eth1-20260310100000.pcap', offset: 4096, reason: 'record at 4096 wants 1514 bytes, 700 left' }],
    },
  ],
};

type PageApi = Pick<ApiClient, 'sensors' | 'sensor' | 'activity' | 'devices' | 'healthSeries'>;
const api: PageApi = {
  sensors: async () => ({ sensors: structuredClone(snapshot) }),
  sensor: async (name) => structuredClone(snapshot.find((s) => s.name === name)!),
  activity: async () => ({ entries: [] }),
  devices: async () => ({ devices: [] }),
  healthSeries: async (_name, from, to) => ({ from: from.toISOString(), to: to.toISOString(), points: [] }),
};

/** Renders `path` with a fleet store that has seen no live message. */
function show(path: string, opts: { loadFirst?: boolean } = {}): Fleet {
  const fleet = createRoot(() => createFleet(api));
  const services = { api, fleet, preferences: { timeZone: () => 'UTC' }, live: () => undefined } as unknown as AppServices;
  window.history.replaceState(null, '', path);
  const mount = () =>
    render(() => (
      <AppContext.Provider value={services}>
        <Router>
          <Route path="/sensors" component={SensorsPage} />
          <Route path="/sensors/:name" component={SensorPage} />
        </Router>
      </AppContext.Provider>
    ));
  if (opts.loadFirst) void fleet.load().then(mount);
  else mount();
  return fleet;
}

const meter = (name: string) => waitFor(() => screen.getByRole('meter', { name }));

describe('gauges start from the latest stored health', () => {
  test('sensors table: CPU and memory of a sensor with latestHealth before any live sample; "no data yet" without', async () => {
    const fleet = show('/sensors');
    expect((await meter('edge-1 CPU')).getAttribute('aria-valuenow')).toBe('42');
    expect(screen.getByRole('meter', { name: 'edge-1 memory' }).getAttribute('aria-valuenow')).toBe('25');
    expect(screen.getByLabelText('edge-2 CPU: no data yet')).toBeTruthy();

    // A live sample replaces it.
    fleet.apply({
      type: 'sensor.health',
      sensor: 'edge-1',
      at: '2026-03-10T12:00:10.000Z',
      cpu: 80,
      memoryUsed: 4_000,
      memoryTotal: 8_000,
      load1: 1,
      disks: [],
    });
    expect(screen.getByRole('meter', { name: 'edge-1 CPU' }).getAttribute('aria-valuenow')).toBe('80');
    expect(screen.getByRole('meter', { name: 'edge-1 memory' }).getAttribute('aria-valuenow')).toBe('50');
  });

  test('sensor page, opened directly (sensor fetched by name): CPU and memory gauges at once', async () => {
    show('/sensors/edge-1');
    expect((await meter('CPU')).getAttribute('aria-valuenow')).toBe('42');
    expect(screen.getByRole('meter', { name: 'Memory' }).getAttribute('aria-valuenow')).toBe('25');
  });

  test('sensor page from the fleet store: CPU gauge at once', async () => {
    const fleet = show('/sensors/edge-1', { loadFirst: true });
    expect((await meter('CPU')).getAttribute('aria-valuenow')).toBe('42');
    expect(fleet.state.sensors['edge-1']?.latestHealth?.cpu, 'shown from the store, not a fetch').toBe(42);
  });
});

describe('capture sources', () => {
  test('the sensor page lists each source: its span, files, size, how much is indexed, gaps and problems', async () => {
    show('/sensors/edge-2');
    const table = await waitFor(() => screen.getByRole('table', { name: 'Capture sources' }));
    const cells = [...table.querySelectorAll('tbody td')].map((td) => td.textContent);
    expect(cells).toEqual(['eth1', '/var/lib/pcapmesh/eth1', 'Mar 10, 2026, 10:00:00 → Mar 10, 2026, 11:59:00', '15', '1.50 GiB', '12 of 14', '0', '1']);
  });

  test('a sensor without availability says so', async () => {
    show('/sensors/edge-1');
    expect(await waitFor(() => screen.getByText('No PCAP availability reported yet.'))).toBeTruthy();
  });
});
