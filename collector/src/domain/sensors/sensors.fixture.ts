/**
 * Test builders for agent messages and a SensorService on a test database with a settable clock.
 * (A `.fixture.ts` file: excluded from the build, shared by tests.)
 */
import type { HealthMessage, PcapMessage, StateMessage, TrafficMessage } from '@pcapmesh/shared/wire';
import { SCHEMA_VERSION } from '@pcapmesh/shared/wire';
import { createLogger } from '../../log.js';
import type { Db } from '../../storage/db.js';
import type { LegacyVerifier } from '../accounts/machine-secrets.js';
import { DomainEvents, type DomainEventMap } from '../events.js';
import { SensorService } from './sensors.service.js';

let nameCounter = 0;
/** A sensor name unique within this process (suites share one database). */
export function uniqueName(prefix = 's'): string {
  nameCounter += 1;
  return `${prefix}-${process.pid}-${nameCounter}`;
}

export function birth(bdSeq: number, seq: number, extra: Partial<StateMessage> = {}): StateMessage {
  return { v: SCHEMA_VERSION, sentAt: Date.now(), seq, status: 'online', bdSeq, version: '0.1.0', hostname: 'host-a', ...extra };
}

export function will(bdSeq: number, seq: number, reason = 'lost'): StateMessage {
  return { v: SCHEMA_VERSION, sentAt: Date.now(), seq, status: 'offline', bdSeq, reason };
}

export function health(seq: number, sentAt: number, extra: Partial<HealthMessage> = {}): HealthMessage {
  return {
    v: SCHEMA_VERSION,
    sentAt,
    seq,
    cpu: { usage: 12.5, cores: 4 },
    memory: { total: 8_000_000_000, used: 2_000_000_000, available: 6_000_000_000 },
    load: [0.5, 0.4, 0.3],
    uptime: 1234,
    disks: [{ mount: '/data', fs: 'ext4', size: 1000, used: 500, available: 500, directories: ['/data/pcap'] }],
    interfaces: [{ name: 'eth0', rxBytes: 100, txBytes: 50, rxPackets: 10, txPackets: 5, rxDropped: 1, rxErrors: 0 }],
    captures: [{ interface: 'eth0', running: true, pid: 42, packets: 1000, drops: 2 }],
    clockOffsetMs: 3,
    ...extra,
  };
}

export function pcap(seq: number, sources: PcapMessage['sources']): PcapMessage {
  return { v: SCHEMA_VERSION, sentAt: Date.now(), seq, sources };
}

export function traffic(seq: number, intervalStart: number, flows: TrafficMessage['flows']): TrafficMessage {
  return { v: SCHEMA_VERSION, sentAt: Date.now(), seq, intervalStart, intervalSeconds: 60, flows };
}

export interface ServiceHarness {
  sensors: SensorService;
  events: DomainEvents;
  /** Every event emitted, in order. */
  emitted: { name: keyof DomainEventMap; event: DomainEventMap[keyof DomainEventMap] }[];
  /** The service's clock; tests move it. */
  clock: { now: Date };
}

export function serviceHarness(db: Db, opts: { heartbeatTimeoutSeconds?: number; start?: Date; legacy?: LegacyVerifier } = {}): ServiceHarness {
  const clock = { now: opts.start ?? new Date() };
  const events = new DomainEvents((err) => {
    throw err;
  });
  const emitted: ServiceHarness['emitted'] = [];
  events.on('sensor.status', (event) => emitted.push({ name: 'sensor.status', event }));
  events.on('sensor.health', (event) => emitted.push({ name: 'sensor.health', event }));
  const sensors = new SensorService({
    db,
    events,
    log: createLogger({ log: { level: 'silent' } }),
    heartbeatTimeoutSeconds: opts.heartbeatTimeoutSeconds ?? 30,
    now: () => clock.now,
    ...(opts.legacy ? { legacy: opts.legacy } : {}),
  });
  return { sensors, events, emitted, clock };
}
