/**
 * A SensorService feeding a NetworkService on a test database, with a settable clock, the real
 * audit service and a cache store (memory unless one is given); and builders of traffic flows.
 * (A `.fixture.ts` file: excluded from the build, shared by tests.)
 */
import { MemoryCache } from '../../cache/memory.js';
import type { CacheStore } from '../../cache/store.js';
import { createLogger } from '../../log.js';
import type { Db } from '../../storage/db.js';
import { AuditService } from '../accounts/audit.service.js';
import { DomainEvents } from '../events.js';
import { SensorService } from '../sensors/sensors.service.js';
import { NetworkService } from './network.service.js';
import type { NetworkSettings, NetworkSubnetEvent } from './network.types.js';

export const DEFAULT_NETWORK_SETTINGS: NetworkSettings = {
  learnIntervalSeconds: 60,
  learnWindowDays: 7,
  externalMinLocations: 0,
  maxWindowDays: 31,
  cacheSeconds: 60,
};

export interface NetworkHarness {
  sensors: SensorService;
  network: NetworkService;
  audit: AuditService;
  cache: Pick<CacheStore, 'get' | 'set' | 'del'>;
  /** `network.subnet` events, in order. */
  subnetEvents: NetworkSubnetEvent[];
  clock: { now: Date };
}

export function networkHarness(db: Db, opts: { start?: Date; cache?: CacheStore; settings?: Partial<NetworkSettings> } = {}): NetworkHarness {
  const clock = { now: opts.start ?? new Date() };
  const now = () => clock.now;
  const log = createLogger({ log: { level: 'silent' } });
  const events = new DomainEvents((err) => {
    throw err;
  });
  const subnetEvents: NetworkSubnetEvent[] = [];
  events.on('network.subnet', (e) => subnetEvents.push(e));
  const cache = opts.cache ?? new MemoryCache('test:');
  const audit = new AuditService({ db, log, now });
  const network = new NetworkService({
    db,
    cache,
    events,
    audit,
    log,
    settings: { ...DEFAULT_NETWORK_SETTINGS, ...opts.settings },
    partitions: { retentionDays: 30, ahead: 1 },
    now,
  });
  const sensors = new SensorService({ db, events, log, heartbeatTimeoutSeconds: 30, now, network });
  return { sensors, network, audit, cache, subnetEvents, clock };
}

/** A flow of `bytes` bytes (packets = bytes / 100). */
export function flow(srcNet: string, dstNet: string, bytes: number): { srcNet: string; dstNet: string; packets: number; bytes: number } {
  return { srcNet, dstNet, packets: Math.max(1, Math.round(bytes / 100)), bytes };
}
