/**
 * Applies agent messages to the fleet's state. Each message is applied in one transaction with
 * the sensor row locked, so concurrent collectors and the heartbeat sweep never interleave a
 * status change; events are emitted only after commit.
 *
 * Ordering rules (envelope `seq` increases per agent message; `bdSeq` per connection):
 * - birth (state online): starts a session — bd_seq := bdSeq, last_seq := seq, status online.
 *   A birth with the current bdSeq and seq ≤ last_seq is a replay ('duplicate').
 * - will/shutdown (state offline): ignored as 'stale' when bdSeq < the current session's bdSeq,
 *   so a late will can never mark a reconnected sensor offline.
 * - health: the sample is stored once per (sensor, sentAt, seq) ('duplicate' otherwise); only a
 *   message newer than last_seq updates disks/devices/status (spooled backlog is history).
 * - pcap: applied when its seq is above the stored availability's seq.
 * - traffic: each (interval, src, dst) stored once; only the flows stored now (not a replay's)
 *   go on to the network view (`network`, domain/network/network.service.ts), in the same
 *   transaction.
 */
import type { HealthMessage, PcapMessage, SensorStatusEvent, StateMessage, TrafficMessage } from '@pcapmesh/shared/wire';
import type { Logger } from '../../log.js';
import type { Db, Queryable } from '../../storage/db.js';
import { applyDeviceHealth, managedDeviceNames, syncDevices } from '../../storage/devices.repo.js';
import { insertHealthSample } from '../../storage/health.repo.js';
import { ensureLocation } from '../../storage/locations.repo.js';
import { applyBirth, applyHealthSummary, applyPcap, lockSensor, raiseBdSeq, touchSensor, type SensorLockRow } from '../../storage/sensors.repo.js';
import { insertTraffic, type TrafficFlow } from '../../storage/traffic.repo.js';
import type { DomainEvents, SensorHealthEvent } from '../events.js';
import { degradedReason, fullestDiskPercent, transition } from './sensor-status.js';
import type { IngestOutcome } from './sensors.types.js';
import { maxTimestamp, minTimestamp, timestampToIso } from '../time.js';

/** What a TrafficSink recorded, handed back to it after commit. */
export type TrafficRecorded = { locationId: number; createdTable: boolean } | null;

/** Receives a traffic message's newly stored flows in the ingest transaction (NetworkService). */
export interface TrafficSink {
  recordTraffic(tx: Queryable, t: { sensorId: number; intervalStart: Date; flows: TrafficFlow[] }): Promise<TrafficRecorded>;
  /** Runs only after the transaction committed, with what recordTraffic returned. */
  afterCommit(recorded: TrafficRecorded): Promise<void>;
}

export interface SensorIngestDeps {
  db: Db;
  events: DomainEvents;
  log: Logger;
  now: () => Date;
  network?: TrafficSink | undefined;
}

type Applied = { outcome: IngestOutcome; status?: SensorStatusEvent | null; health?: SensorHealthEvent };

export class SensorIngest {
  constructor(private readonly deps: SensorIngestDeps) {}

  state(sensor: string, msg: StateMessage): Promise<IngestOutcome> {
    return this.apply(sensor, async (tx, row, now) => {
      if (msg.status === 'online') {
        if (row.bdSeq === msg.bdSeq && row.lastSeq !== null && msg.seq <= row.lastSeq) return { outcome: 'duplicate' };
        if (row.bdSeq !== null && msg.bdSeq < row.bdSeq) {
          this.deps.log.warn({ sensor, bdSeq: msg.bdSeq, previousBdSeq: row.bdSeq }, 'birth with a lower bdSeq: agent state was reset');
        }
        const locationId = msg.location ? await ensureLocation(tx, msg.location) : undefined;
        await applyBirth(tx, row.id, {
          bdSeq: msg.bdSeq,
          seq: msg.seq,
          seenAt: now,
          version: msg.version ?? null,
          hostname: msg.hostname ?? null,
          locationId,
          capabilities: msg.capabilities ?? [],
          interfaces: msg.interfaces ?? [],
        });
        if (msg.interfaces) await syncDevices(tx, row.id, msg.interfaces);
        return { outcome: 'applied', status: await transition(tx, row, 'online', 'birth', now) };
      }
      if (row.bdSeq !== null && msg.bdSeq < row.bdSeq) return { outcome: 'stale' };
      await raiseBdSeq(tx, row.id, msg.bdSeq);
      const reason = msg.reason === 'lost' ? 'last will' : (msg.reason ?? 'offline');
      return { outcome: 'applied', status: await transition(tx, row, 'offline', reason, now) };
    });
  }

  health(sensor: string, msg: HealthMessage): Promise<IngestOutcome> {
    return this.apply(sensor, async (tx, row, now) => {
      const sampledAt = new Date(msg.sentAt);
      const diskUsedPercent = fullestDiskPercent(msg.disks);
      const stored = await insertHealthSample(tx, {
        sensorId: row.id,
        sampledAt,
        seq: msg.seq,
        cpuUsage: msg.cpu.usage,
        cpuCores: msg.cpu.cores,
        memoryTotal: msg.memory.total,
        memoryUsed: msg.memory.used,
        memoryAvailable: msg.memory.available,
        load: msg.load,
        uptimeSeconds: msg.uptime,
        diskUsedPercent,
        disks: msg.disks,
        interfaces: msg.interfaces,
        captures: msg.captures,
        clockOffsetMs: msg.clockOffsetMs ?? null,
        spoolDropped: msg.spoolDropped ?? null,
      });
      if (!stored) return { outcome: 'duplicate' };
      const newest = row.lastSeq === null || msg.seq > row.lastSeq;
      await touchSensor(tx, row.id, now, msg.seq);
      if (!newest) return { outcome: 'applied' };

      await applyHealthSummary(tx, row.id, { disks: msg.disks, clockOffsetMs: msg.clockOffsetMs ?? null });
      await applyDeviceHealth(tx, row.id, { captures: msg.captures, interfaces: msg.interfaces, at: now });
      const degraded = degradedReason(msg, await managedDeviceNames(tx, row.id));
      const wasLive = row.status === 'online' || row.status === 'degraded';
      const reason = degraded ?? (wasLive ? 'recovered' : 'health received');
      const status = await transition(tx, row, degraded ? 'degraded' : 'online', reason, now);
      const health: SensorHealthEvent = {
        type: 'sensor.health',
        sensor,
        at: sampledAt.toISOString(),
        cpu: msg.cpu.usage,
        memoryUsed: msg.memory.used,
        memoryTotal: msg.memory.total,
        load1: msg.load[0],
        disks: msg.disks.map((d) => ({ mount: d.mount, size: d.size, used: d.used, usedPercent: d.size > 0 ? (d.used / d.size) * 100 : 0 })),
      };
      return { outcome: 'applied', status, health };
    });
  }

  pcap(sensor: string, msg: PcapMessage): Promise<IngestOutcome> {
    return this.apply(sensor, async (tx, row, now) => {
      if (row.pcapSeq !== null && msg.seq <= row.pcapSeq) {
        return { outcome: msg.seq === row.pcapSeq ? 'duplicate' : 'stale' };
      }
      const oldest = msg.sources.map((s) => s.oldest).reduce((a, b) => (a && b ? minTimestamp(a, b) : (a ?? b)), null);
      const newest = msg.sources.map((s) => s.newest).reduce((a, b) => (a && b ? maxTimestamp(a, b) : (a ?? b)), null);
      await applyPcap(tx, row.id, {
        oldest: oldest ? timestampToIso(oldest) : null,
        newest: newest ? timestampToIso(newest) : null,
        sources: msg.sources,
        at: now,
        seq: msg.seq,
      });
      await touchSensor(tx, row.id, now, msg.seq);
      return { outcome: 'applied' };
    });
  }

  async traffic(sensor: string, msg: TrafficMessage): Promise<IngestOutcome> {
    const network = this.deps.network;
    let recorded: TrafficRecorded = null;
    const outcome = await this.apply(sensor, async (tx, row, now) => {
      const intervalStart = new Date(msg.intervalStart);
      const stored = await insertTraffic(tx, {
        sensorId: row.id,
        intervalStart,
        intervalSeconds: msg.intervalSeconds,
        part: msg.part ?? '',
        seq: msg.seq,
        flows: msg.flows,
      });
      if (stored.length === 0 && msg.flows.length > 0) return { outcome: 'duplicate' };
      if (network) recorded = await network.recordTraffic(tx, { sensorId: row.id, intervalStart, flows: stored });
      await touchSensor(tx, row.id, now, msg.seq);
      return { outcome: 'applied' };
    });
    if (network) await network.afterCommit(recorded);
    return outcome;
  }

  /** Runs `fn` in a transaction with the sensor row locked; emits its events after commit. */
  private async apply(sensor: string, fn: (tx: Queryable, row: SensorLockRow, now: Date) => Promise<Applied>): Promise<IngestOutcome> {
    const result = await this.deps.db.transaction(async (tx): Promise<Applied> => {
      const row = await lockSensor(tx, sensor);
      if (!row) return { outcome: 'unknown-sensor' };
      return fn(tx, row, this.deps.now());
    });
    if (result.status) {
      this.deps.log.info({ sensor, status: result.status.status, previous: result.status.previous, reason: result.status.reason }, 'sensor status changed');
      this.deps.events.emit('sensor.status', result.status);
    }
    if (result.health) this.deps.events.emit('sensor.health', result.health);
    return result.outcome;
  }
}
