/**
 * The network page without WebGL shows the same locations and flows as tables (happy-dom has no
 * WebGL, so `hasWebGl()` is false here as in Chromium with --disable-webgl), and the globe's model:
 * points sized by traffic, arcs only between placed locations, unplaced locations listed. The
 * collector does not run under happy-dom: GET /network/* is answered as its view types say.
 */
import { Route, Router } from '@solidjs/router';
import { render, screen, waitFor, within } from '@solidjs/testing-library';
import { expect, test } from 'vitest';
import type { ApiClient } from '../api/client.js';
import type { NetworkLocationsView, SubnetView } from '../api/types.js';
import { ToastProvider } from '../components/toasts.jsx';
import { AppContext, type AppServices } from '../context.jsx';
import NetworkPage from '../pages/network.jsx';
import { globeModel, hasWebGl } from './model.js';

const AT = '2026-03-10T12:00:00.000Z';

function view(): NetworkLocationsView {
  const loc = (name: string, lat: number | null, lng: number | null, bytes: number) => ({
    name,
    description: null,
    latitude: lat,
    longitude: lng,
    sensors: [`${name}-1`],
    online: 1,
    subnets: 2,
    packets: bytes / 100,
    bytes,
  });
  return {
    from: '2026-03-10T11:00:00.000Z',
    to: AT,
    locations: [loc('berlin', 52.52, 13.405, 1_000), loc('tokyo', 35.68, 139.69, 250_000), loc('lab', null, null, 4_000)],
    flows: [
      { from: 'berlin', to: 'tokyo', packets: 30, bytes: 3_000 },
      { from: 'tokyo', to: 'lab', packets: 5, bytes: 500 },
    ],
  };
}

const subnet: SubnetView = {
  subnet: '10.1.2.0/24',
  state: 'learned',
  location: 'berlin',
  learned: { state: 'learned', location: 'berlin', confidence: 0.93 },
  locations: 1,
  packets: 10,
  bytes: 1_000,
  firstSeen: AT,
  lastSeen: AT,
  pinned: null,
};

test('globe model: radius grows with traffic, arcs only between placed locations, unplaced listed', () => {
  const m = globeModel(view());
  expect(m.points.map((p) => p.name)).toEqual(['tokyo', 'berlin']);
  expect(m.points[0]!.radius).toBe(3);
  expect(m.points[1]!.radius).toBeGreaterThan(0.8);
  expect(m.points[1]!.radius).toBeLessThan(m.points[0]!.radius);
  expect(m.unplaced).toEqual(['lab']);
  expect(m.arcs).toHaveLength(1);
  expect(m.arcs[0]).toMatchObject({ from: 'berlin', to: 'tokyo', startLat: 52.52, endLng: 139.69, bytes: 3_000 });
});

test('without WebGL the network page shows the locations and flows as tables, busiest first, and the subnet map', async () => {
  expect(hasWebGl()).toBe(false);
  const asked: Record<string, unknown>[] = [];
  const api = {
    networkLocations: async (q: Record<string, unknown>) => {
      asked.push(q);
      return view();
    },
    networkSubnets: async () => ({ subnets: [subnet] }),
  } as unknown as ApiClient;
  const services = {
    api,
    preferences: { timeZone: () => 'UTC' },
    session: { user: () => ({ username: 'v', role: 'viewer' }) },
  } as unknown as AppServices;
  window.history.replaceState(null, '', '/network');
  render(() => (
    <AppContext.Provider value={services}>
      <ToastProvider>
        <Router>
          <Route path="/network" component={NetworkPage} />
        </Router>
      </ToastProvider>
    </AppContext.Provider>
  ));
  const fallback = await waitFor(() => {
    const el = document.querySelector('[data-view="table"]');
    if (!el) throw new Error('no fallback table yet');
    return el as HTMLElement;
  });
  expect(document.querySelector('[data-view="globe"]')).toBeNull();
  expect(within(fallback).getByText(/WebGL is not available/)).toBeTruthy();
  const rows = [...fallback.querySelectorAll('tr[data-location]')].map((r) => r.getAttribute('data-location'));
  expect(rows).toEqual(['tokyo', 'lab', 'berlin']);
  const lab = fallback.querySelector('tr[data-location="lab"]')!;
  expect(lab.textContent).toContain('–');
  expect(fallback.querySelector('tr[data-location="tokyo"]')!.textContent).toContain('250 kB');
  expect([...fallback.querySelectorAll('tr[data-flow]')].map((r) => r.getAttribute('data-flow'))).toEqual(['berlin→tokyo', 'tokyo→lab']);
  // The default range is the last 24 hours.
  const q = asked[0] as { from: string; to: string };
  expect(Date.parse(q.to) - Date.parse(q.from)).toBe(24 * 3_600_000);
  // The subnet map; a viewer gets no pin buttons and no clear-cache.
  const row = await screen.findByText('10.1.2.0/24');
  expect(row.closest('tr')!.textContent).toContain('93 %');
  expect(screen.queryByRole('button', { name: 'Clear location cache' })).toBeNull();
  expect(screen.queryByRole('button', { name: /Pin/ })).toBeNull();
});
