import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDomainError } from '../errors.js';
import type { SensorView } from '../sensors/sensors.types.js';
import { source } from '../../testing/jobs.fixture.js';
import type { JobRequest } from './jobs.types.js';
import { availabilityOf, canonicalFilter, filterLocations, filterNets, planEntry, resolveTargets, validateRequest, type PlannerSettings } from './planner.js';
import { nsOfDate } from './window.js';

const settings: PlannerSettings = {
  defaultLimits: { maxBytes: 1000, maxPackets: 100, timeoutSeconds: 60 },
  ceilings: { maxBytes: 5000, maxPackets: 500, timeoutSeconds: 600 },
  maxWindowSeconds: 3600,
};
const T = Date.parse('2026-03-01T10:00:00Z');
const ns = (ms: number) => nsOfDate(new Date(ms));
const request = (over: Partial<JobRequest> = {}): JobRequest => ({
  window: { from: ns(T), to: ns(T + 600_000) },
  filter: { expression: 'tcp port 443' },
  targets: { sensors: ['edge-1'] },
  ...over,
});

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err) => isDomainError(err, 'invalid') && message.test(err.message));
}

function sensor(name: string, over: Partial<SensorView> = {}): SensorView {
  return {
    name,
    location: null,
    status: 'online',
    statusReason: null,
    statusChangedAt: null,
    version: null,
    hostname: null,
    capabilities: [],
    lastSeen: null,
    registeredAt: new Date(T).toISOString(),
    disks: [],
    interfaces: [],
    pcap: { oldest: null, newest: null, sources: [], updatedAt: null },
    clockOffsetMs: null,
    latestHealth: null,
    ...over,
  };
}

test('validateRequest: defaults, canonical filter, and every refusal names what is wrong', () => {
  const v = validateRequest(request({ limits: { maxPackets: 500 } }), settings);
  assert.deepEqual(v.limits, { maxBytes: 1000, maxPackets: 500, timeoutSeconds: 60 });
  assert.equal(v.expression, canonicalFilter({ expression: 'tcp  port   443' }));
  const structured = canonicalFilter({ ip: ['10.0.0.1'], ports: [443], protocol: 'tcp' });
  assert.match(structured, /10\.0\.0\.1/);
  assert.match(structured, /tcp port 443/);
  assert.equal(canonicalFilter({ expression: structured }), structured, 'canonical text parses back to itself');

  refused(() => validateRequest(request({ filter: { expression: 'tcp port xx' } }), settings), /^filter: at 9: expected .*got 'xx'/);
  refused(() => validateRequest(request({ filter: { expression: 'ether host 1' } }), settings), /^filter: at 0: 'ether' is not supported/);
  refused(() => validateRequest(request({ filter: { ip: ['10.0.0.1 or 1'] } }), settings), /^filter: filter field 'ip': '10\.0\.0\.1 or 1'/);
  refused(() => validateRequest(request({ window: { from: ns(T), to: ns(T) } }), settings), /^window: to \(2026-03-01T10:00:00\.000000Z\) must be after from/);
  refused(
    () => validateRequest(request({ window: { from: ns(T), to: ns(T + 3_601_000) } }), settings),
    /^window of 3601 s exceeds jobs\.maxWindowSeconds \(3600\)$/,
  );
  refused(() => validateRequest(request({ limits: { maxBytes: 5001 } }), settings), /^limits\.maxBytes 5001 exceeds jobs\.ceilings\.maxBytes \(5000\)$/);
  refused(() => validateRequest(request({ limits: { timeoutSeconds: 0 } }), settings), /^limits\.timeoutSeconds: must be a positive integer$/);
  refused(() => validateRequest(request({ targets: { sensors: [] } }), settings), /^targets: sensors is empty$/);
  refused(() => validateRequest(request({ name: '' }), settings), /^name: must be 1 to 256 characters$/);
});

test('availability: coverage fraction and gaps inside the window, bytes pro rata, skipped when nothing overlaps', () => {
  const window = { from: ns(T), to: ns(T + 600_000) };
  const now = ns(T + 3_600_000);
  // Source covers [T-300 s, T+300 s] with a gap [T+60 s, T+120 s]: 240 s of the 600 s window.
  const s = sensor('edge-1', {
    pcap: { oldest: null, newest: null, updatedAt: null, sources: [source(T - 300_000, T + 300_000, 6000, [[T + 60_000, T + 120_000]])] },
  });
  const a = availabilityOf(s, window, now);
  assert.equal(a.included, true);
  assert.ok(Math.abs(a.fraction - 0.4) < 1e-6, `fraction ${a.fraction}`);
  assert.deepEqual(
    a.gaps.map((g) => [Number((g.from - window.from) / 1_000_000_000n), Number((g.to - window.from) / 1_000_000_000n)]),
    [
      [60, 120],
      [300, 600],
    ],
  );
  assert.ok(Math.abs(a.bytesInWindow - 3000) <= 1, 'half the source span lies in the window');

  const old = sensor('edge-2', { pcap: { oldest: null, newest: null, updatedAt: null, sources: [source(T - 7_200_000, T - 3_600_000, 100)] } });
  const entry = planEntry(old, window, now);
  assert.deepEqual([entry.included, entry.note, entry.coverage.fraction], [false, 'no availability overlaps the window', 0]);

  // A window reaching into the future includes an online sensor that is capturing, not an offline one.
  const future = { from: ns(T + 3_000_000), to: ns(T + 4_000_000) };
  const capturing = sensor('edge-3', { pcap: { oldest: null, newest: null, updatedAt: null, sources: [source(T, T + 2_999_000, 100)] } });
  assert.equal(availabilityOf(capturing, future, now).included, true);
  assert.equal(availabilityOf({ ...capturing, status: 'offline' }, future, now).included, false);
});

test('resolveTargets: named sensors and locations, auto by overlap; unknown names refused by name', () => {
  const window = { from: ns(T), to: ns(T + 600_000) };
  const now = ns(T + 3_600_000);
  const a = sensor('edge-a', { location: 'dc-1', pcap: { oldest: null, newest: null, updatedAt: null, sources: [source(T, T + 600_000, 10)] } });
  const b = sensor('edge-b', { location: 'dc-2' });
  const c = sensor('edge-c', { location: 'dc-1' });
  assert.deepEqual(
    resolveTargets({ sensors: ['edge-b'] }, [a, b, c], window, now).map((s) => s.name),
    ['edge-b'],
  );
  assert.deepEqual(
    resolveTargets({ locations: ['dc-1'] }, [a, b, c], window, now).map((s) => s.name),
    ['edge-a', 'edge-c'],
  );
  assert.deepEqual(
    resolveTargets({ auto: true }, [a, b, c], window, now).map((s) => s.name),
    ['edge-a'],
  );
  refused(() => resolveTargets({ sensors: ['edge-a', 'edge-x', 'edge-y'] }, [a, b, c], window, now), /^targets: unknown sensors 'edge-x', 'edge-y'$/);
  refused(() => resolveTargets({ locations: ['mars'] }, [a, b, c], window, now), /^targets: no sensor at location 'mars'$/);
  refused(() => resolveTargets({ auto: true }, [b, c], window, now), /^targets: auto found no sensor whose captures overlap the window$/);
});

test('filterNets: the networks a filter names outside `not`, as CIDR text; filterLocations: where every matching packet was seen', () => {
  assert.deepEqual(filterNets(canonicalFilter({ expression: 'host 10.1.2.3 and (net 10.2.0.0/16 or not host 10.9.9.9) and tcp port 443' })), [
    '10.1.2.3/32',
    '10.2.0.0/16',
  ]);
  assert.deepEqual(filterNets(canonicalFilter({ expression: 'host 2001:db8::1 or net 2001:db8:1::/48' })), [
    '2001:db8:0:0:0:0:0:1/128',
    '2001:db8:1:0:0:0:0:0/48',
  ]);
  assert.deepEqual(filterNets(canonicalFilter({ expression: 'tcp port 443' })), []);

  const located = new Map<string, string | null>([
    ['10.1.2.3/32', 'dc-1'],
    ['10.2.0.0/16', 'dc-2'],
    ['10.3.0.1/32', 'dc-3'],
    ['8.8.8.8/32', null], // external
  ]);
  const at = (expression: string) => {
    const set = filterLocations(canonicalFilter({ expression }), located);
    return set === null ? null : [...set].sort();
  };
  assert.deepEqual(at('host 10.1.2.3'), ['dc-1']);
  assert.deepEqual(at('host 10.1.2.3 and tcp port 22'), ['dc-1'], 'a non-address term keeps the address scope');
  assert.deepEqual(at('host 10.1.2.3 or net 10.2.0.0/16'), ['dc-1', 'dc-2']);
  assert.deepEqual(at('host 10.1.2.3 and host 8.8.8.8'), ['dc-1'], 'and: the placed side is enough');
  assert.deepEqual(at('(host 10.1.2.3 or host 10.3.0.1) and net 10.2.0.0/16'), ['dc-2'], 'and: the side with fewer locations');
  assert.equal(at('host 8.8.8.8'), null, 'external: every sensor');
  assert.equal(at('host 192.0.2.1'), null, 'unknown to the map: every sensor');
  assert.equal(at('host 10.1.2.3 or tcp port 22'), null, 'or with an unrestricted side');
  assert.equal(at('not host 10.1.2.3'), null, 'a negated address narrows nothing');
  assert.equal(at('tcp port 443'), null);
});

test('resolveTargets: auto narrowed to the locations the subnet map gives, over the sensors that overlap the window', () => {
  const window = { from: ns(T), to: ns(T + 600_000) };
  const now = ns(T + 3_600_000);
  const pcap = { oldest: null, newest: null, updatedAt: null, sources: [source(T, T + 600_000, 10)] };
  const a = sensor('edge-a', { location: 'dc-1', pcap });
  const b = sensor('edge-b', { location: 'dc-2', pcap });
  const c = sensor('edge-c', { location: 'dc-1' }); // no captures in the window
  const d = sensor('edge-d', { location: null, pcap });
  const names = (narrow: ReadonlySet<string> | null) => resolveTargets({ auto: true }, [a, b, c, d], window, now, narrow).map((s) => s.name);
  assert.deepEqual(names(null), ['edge-a', 'edge-b', 'edge-d'], 'no narrowing: every overlapping sensor, as before');
  assert.deepEqual(names(new Set(['dc-1'])), ['edge-a']);
  assert.deepEqual(names(new Set(['dc-1', 'dc-2'])), ['edge-a', 'edge-b']);
  assert.deepEqual(names(new Set(['dc-9'])), ['edge-a', 'edge-b', 'edge-d'], 'no overlapping sensor there: every overlapping sensor');
  assert.deepEqual(
    resolveTargets({ sensors: ['edge-b'] }, [a, b], window, now, new Set(['dc-1'])).map((s) => s.name),
    ['edge-b'],
    'named targets are never narrowed',
  );
});
