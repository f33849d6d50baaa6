// @vitest-environment node
/**
 * The fleet store over the collector's real HTTP app and real domain events: a sensor's birth and
 * last will, ingested by the real SensorService, reach the store as the domain events the live
 * feed carries to the browser.
 */
import { Sequencer } from '@pcapmesh/shared/wire';
import { createRoot } from 'solid-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestHttp, type TestHttp } from '../../../collector/src/http/app.fixture.js';
import { makeApiClient } from '../api/client.js';
import { sensorMetrics } from './fleet-math.js';
import { createFleet, type Fleet } from './fleet.js';

let t: TestHttp;
let fleet: Fleet;
let api: ReturnType<typeof makeApiClient>;
let unsubscribe: () => void;
const seq = new Sequencer(1);

beforeAll(async () => {
  t = await createTestHttp();
  await t.sensors.register({ name: 'edge-1', location: 'lab' });
  await t.sensors.register({ name: 'edge-2', location: 'dc' });
  api = makeApiClient({
    auth: { token: () => t.token, refresh: async () => false },
    base: 'http://collector.test/api/v1',
    fetch: async (input, init) => t.app.request(String(input), init),
  });
  fleet = createRoot(() => createFleet(api));
  const offStatus = t.events.on('sensor.status', (e) => fleet.apply(e));
  const offHealth = t.events.on('sensor.health', (e) => fleet.apply(e));
  unsubscribe = () => {
    offStatus();
    offHealth();
  };
  fleet.apply({ type: 'hello', time: new Date().toISOString() });
  await fleet.load();
}, 120_000);
afterAll(async () => {
  unsubscribe?.();
  await t?.close();
});

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond(), what).toBe(true);
}

test('snapshot: every sensor, counted by status', () => {
  expect(fleet.list().map((s) => s.name)).toEqual(['edge-1', 'edge-2']);
  expect(fleet.counts()).toEqual({ online: 0, offline: 0, degraded: 0, unknown: 2 });
  expect(fleet.retainedMs()).toBe(0);
});

test('a birth and a last will update the sensor and the recent changes live', async () => {
  await t.sensors.ingestState('edge-1', seq.stamp('state', { status: 'online', bdSeq: 1, version: '1.2.3' }));
  await until(() => fleet.state.sensors['edge-1']?.status === 'online', 'edge-1 online');
  expect(fleet.counts().online).toBe(1);
  expect(fleet.activity()[0]).toMatchObject({ sensor: 'edge-1', from: 'unknown', to: 'online' });

  await t.sensors.ingestState('edge-1', seq.stamp('state', { status: 'offline', bdSeq: 1, reason: 'lost' }));
  await until(() => fleet.state.sensors['edge-1']?.status === 'offline', 'edge-1 offline');
  expect(fleet.state.sensors['edge-1']?.statusReason).toMatch(/will|lost/);
  expect(fleet.activity().map((a) => a.to)).toEqual(['offline', 'online']);
  // The store agrees with a fresh snapshot from the API.
  await fleet.load();
  expect(fleet.state.sensors['edge-1']?.status).toBe('offline');
});

test("the snapshot carries each sensor's newest stored health sample; none → null", async () => {
  const sentAt = Date.parse('2026-03-10T12:00:00Z');
  const body = {
    cpu: { usage: 37.5, cores: 4 },
    memory: { total: 8_000, used: 6_000, available: 2_000 },
    load: [0.5, 0.25, 0.125] as [number, number, number],
    uptime: 60,
    disks: [],
    interfaces: [],
    captures: [],
  };
  expect(await t.sensors.ingestHealth('edge-2', { ...seq.stamp('health', body), sentAt })).toBe('applied');
  // A store that never saw a live message: what the dashboard shows on opening.
  const fresh = createRoot(() => createFleet(api));
  await fresh.load();
  const at = new Date(sentAt).toISOString();
  expect(fresh.state.sensors['edge-2']?.latestHealth).toEqual({ at, cpu: 37.5, memoryUsed: 6_000, memoryTotal: 8_000, load1: 0.5 });
  expect(sensorMetrics(fresh.state.sensors['edge-2']!)).toEqual({ cpu: 37.5, memoryPercent: 75, at });
  expect(fresh.state.sensors['edge-1']?.latestHealth).toBeNull();
});

test('live samples replace the latest health, older ones do not; a reload keeps a newer live sample; unknown sensors ignored', async () => {
  await fleet.load();
  const stored = fleet.state.sensors['edge-2']?.latestHealth;
  expect(stored?.cpu).toBe(37.5);
  const at = new Date(Date.parse(stored!.at) + 10_000).toISOString();
  fleet.apply({ type: 'sensor.health', sensor: 'edge-2', at, cpu: 42, memoryUsed: 1, memoryTotal: 4, load1: 0.1, disks: [] });
  expect(sensorMetrics(fleet.state.sensors['edge-2']!)).toEqual({ cpu: 42, memoryPercent: 25, at });
  const older = new Date(Date.parse(at) - 5_000).toISOString();
  fleet.apply({ type: 'sensor.health', sensor: 'edge-2', at: older, cpu: 99, memoryUsed: 4, memoryTotal: 4, load1: 3, disks: [] });
  expect(fleet.state.sensors['edge-2']?.latestHealth).toEqual({ at, cpu: 42, memoryUsed: 1, memoryTotal: 4, load1: 0.1 });
  // The server's newest stored sample is older than the live one the store has.
  await fleet.load();
  expect(fleet.state.sensors['edge-2']?.latestHealth?.cpu).toBe(42);
  fleet.apply({ type: 'sensor.health', sensor: 'ghost', at, cpu: 1, memoryUsed: 1, memoryTotal: 1, load1: 0, disks: [] });
  expect(fleet.state.sensors.ghost).toBeUndefined();
});
