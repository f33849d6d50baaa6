/**
 * The sensor fleet: registration and secrets, ingest of agent messages (state, health, PCAP
 * availability, traffic), offline detection, and the read views the API serves.
 * Transport (broker/, http/) calls this; this calls storage/*.repo.ts only.
 * (Interim commit: signatures are the contract; bodies land next.)
 */
import type { HealthMessage, PcapMessage, StateMessage, TrafficMessage } from '@pcapmesh/shared/wire';
import type { Logger } from '../log.js';
import type { Db } from '../storage/db.js';
import { DomainError } from './errors.js';
import type { DomainEvents } from './events.js';
import type {
  ActivityEntry,
  DeviceView,
  HealthPoint,
  IngestOutcome,
  LocationView,
  SensorStatus,
  SensorStatusView,
  SensorView,
} from './sensors.types.js';

export interface SensorServiceDeps {
  db: Db;
  events: DomainEvents;
  log: Logger;
  /** config.ingest.heartbeatTimeoutSeconds */
  heartbeatTimeoutSeconds: number;
}

export class SensorService {
  constructor(private readonly deps: SensorServiceDeps) {}

  /** Registers a sensor; returns it and its secret (shown once). conflict if the name exists; invalid if the name is bad. */
  register(input: { name: string; location?: string }): Promise<{ sensor: SensorView; secret: string }> {
    return todo(input);
  }
  /** A new secret for `name`; the old one is invalid at once. not_found if unknown. */
  rotateSecret(name: string): Promise<string> {
    return todo(name);
  }
  /** argon2id verify; unknown sensor → false (after the same work as a real check). */
  verifySecret(name: string, secret: string): Promise<boolean> {
    return todo(name, secret);
  }
  ingestState(sensor: string, msg: StateMessage): Promise<IngestOutcome> {
    return todo(sensor, msg);
  }
  ingestHealth(sensor: string, msg: HealthMessage): Promise<IngestOutcome> {
    return todo(sensor, msg);
  }
  ingestPcap(sensor: string, msg: PcapMessage): Promise<IngestOutcome> {
    return todo(sensor, msg);
  }
  ingestTraffic(sensor: string, msg: TrafficMessage): Promise<IngestOutcome> {
    return todo(sensor, msg);
  }
  /** Online/degraded sensors silent longer than the heartbeat timeout → offline 'heartbeat timeout'. Returns their names. */
  sweepHeartbeats(now: Date = new Date()): Promise<string[]> {
    return todo(now);
  }
  list(): Promise<SensorView[]> {
    return todo();
  }
  get(name: string): Promise<SensorView> {
    return todo(name);
  }
  status(name: string): Promise<SensorStatusView> {
    return todo(name);
  }
  devices(name: string): Promise<DeviceView[]> {
    return todo(name);
  }
  healthSeries(name: string, from: Date, to: Date, maxPoints = 500): Promise<HealthPoint[]> {
    return todo(name, from, to, maxPoints);
  }
  activity(opts: { since?: Date; limit: number }): Promise<ActivityEntry[]> {
    return todo(opts);
  }
  locations(): Promise<LocationView[]> {
    return todo();
  }
  statusCounts(): Promise<Record<SensorStatus, number>> {
    return todo();
  }
}

function todo(..._args: unknown[]): Promise<never> {
  return Promise.reject(new DomainError('unavailable', 'not implemented yet'));
}
