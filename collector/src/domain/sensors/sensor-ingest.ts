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
 * - traffic: each (interval, part, src, dst) stored once; only the flows stored now (not a
 *   replay's) go on to the network view (`network`, domain/network/network.service.ts), in the same
 *   transaction. Traffic messages are batched (domain/batcher.ts): up to `trafficBatch.maxMessages`
 *   messages or `maxRows` flows, or what came within `maxDelayMs`, are applied in ONE transaction
 *   (sensors locked in id order, multi-row statements); each message's promise resolves only
 *   after that transaction committed, and every message of a failed batch rejects (not
 *   acknowledged: the agents send them again, and the replay stores only what is missing).
 */
import type { HealthMessage, PcapMessage, SensorStatusEvent, StateMessage, TrafficMessage } from '@pcapmesh/shared/wire';
import { Batcher } from '../batcher.js';
import type { Logger } from '../../log.js';
import type { Db, Queryable } from '../../storage/db.js';
import { applyDeviceHealth, managedDeviceNames, syncDevices } from '../../storage/devices.repo.js';
import { insertHealthSample } from '../../storage/health.repo.js';
import { ensureLocation } from '../../storage/locations.repo.js';
import {
  applyBirth,
  applyHealthSummary,
  applyPcap,
  lockSensor,
  lockSensors,
  raiseBdSeq,
  touchSensor,
  touchSensors,
  type SensorLockRow,
} from '../../storage/sensors.repo.js';
import { insertTrafficBatch, type TrafficFlow, type TrafficSampleSet } from '../../storage/traffic.repo.js';
import type { DomainEvents, SensorHealthEvent } from '../events.js';
import { degradedReason, fullestDiskPercent, transition } from './sensor-status.js';
import type { IngestOutcome } from './sensors.types.js';
import { maxTimestamp, minTimestamp, timestampToIso } from '../time.js';

/** What a TrafficSink recorded, handed back to it after commit: the locations it wrote to, and those whose traffic table it created. */
export type TrafficRecorded = { locations: number[]; createdTables: number[] } | null;

/** One message's newly stored flows, from a sensor at a location. */
export interface NewTraffic {
  sensorId: number;
  locationId: number;
  intervalStart: Date;
  flows: TrafficFlow[];
}

/** Receives a traffic batch's newly stored flows in the ingest transaction (NetworkService). */
export interface TrafficSink {
  recordTraffic(tx: Queryable, batch: NewTraffic[]): Promise<TrafficRecorded>;
  /** Runs only after the transaction committed, with what recordTraffic returned. */
  afterCommit(recorded: TrafficRecorded): Promise<void>;
}

export interface SensorIngestDeps {
  db: Db;
  events: DomainEvents;
  log: Logger;
  now: () => Date;
  network?: TrafficSink | undefined;
  /** How traffic messages are batched (defaults: TRAFFIC_BATCH). */
  trafficBatch?: Partial<TrafficBatchSettings> | undefined;
}

export interface TrafficBatchSettings {
  /** Messages in one transaction at most. */
  maxMessages: number;
  /** Flows in one transaction at most (a bigger message goes alone). */
  maxRows: number;
  /** How long the first message of a batch waits for others. */
  maxDelayMs: number;
  /** Batches being stored at once (PostgreSQL: connections busy with traffic). */
  concurrency: number;
}

/** Defaults: 50 agent messages of 1,000 rows, or 20 ms, two transactions at once. */
export const TRAFFIC_BATCH: TrafficBatchSettings = { maxMessages: 200, maxRows: 50_000, maxDelayMs: 20, concurrency: 2 };

interface TrafficItem {
  sensor: string;
  msg: TrafficMessage;
}

type Applied = { outcome: IngestOutcome; status?: SensorStatusEvent | null; health?: SensorHealthEvent };

export class SensorIngest {
  private readonly trafficBatcher: Batcher<TrafficItem, IngestOutcome>;

  constructor(private readonly deps: SensorIngestDeps) {
    const b = { ...TRAFFIC_BATCH, ...deps.trafficBatch };
    this.trafficBatcher = new Batcher((items) => this.trafficBatch(items), {
      maxItems: b.maxMessages,
      maxWeight: b.maxRows,
      maxDelayMs: b.maxDelayMs,
      concurrency: b.concurrency,
    });
  }

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

  /** Applies a traffic message in the next batch; resolves after that batch committed (see the contract). */
  traffic(sensor: string, msg: TrafficMessage): Promise<IngestOutcome> {
    return this.trafficBatcher.add({ sensor, msg }, Math.max(1, msg.flows.length));
  }

  /** Resolves when every traffic message handed in so far was stored or failed. */
  drainTraffic(): Promise<void> {
    return this.trafficBatcher.drain();
  }

  /** One transaction for a batch of traffic messages: one outcome per message, in order. */
  private async trafficBatch(items: TrafficItem[]): Promise<IngestOutcome[]> {
    const network = this.deps.network;
    let recorded: TrafficRecorded = null;
    const outcomes = await this.deps.db.transaction(async (tx) => {
      const now = this.deps.now();
      const sensors = new Map(
        (
          await lockSensors(
            tx,
            items.map((i) => i.sensor),
          )
        ).map((r) => [r.name, r]),
      );
      const sets: (TrafficSampleSet & { locationId: number | null })[] = [];
      const setOf = items.map((i) => {
        const row = sensors.get(i.sensor);
        if (!row) return -1;
        const m = i.msg;
        sets.push({
          sensorId: row.id,
          locationId: row.locationId,
          intervalStart: new Date(m.intervalStart),
          intervalSeconds: m.intervalSeconds,
          part: m.part ?? '',
          seq: m.seq,
          flows: m.flows,
        });
        return sets.length - 1;
      });
      const fresh = await insertTrafficBatch(tx, sets);
      const out = items.map((_, k): IngestOutcome => {
        const s = setOf[k]!;
        if (s < 0) return 'unknown-sensor';
        return fresh[s]!.length === 0 && sets[s]!.flows.length > 0 ? 'duplicate' : 'applied';
      });
      const applied = sets.filter((_, s) => fresh[s]!.length > 0 || sets[s]!.flows.length === 0);
      if (network) {
        const batch = sets.flatMap((set, s) =>
          set.locationId !== null && fresh[s]!.length > 0
            ? [{ sensorId: set.sensorId, locationId: set.locationId, intervalStart: set.intervalStart, flows: fresh[s]! }]
            : [],
        );
        recorded = await network.recordTraffic(tx, batch);
      }
      await touchSensors(
        tx,
        now,
        applied.map((set) => ({ id: set.sensorId, seq: set.seq })),
      );
      return out;
    });
    if (network) await network.afterCommit(recorded);
    return outcomes;
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
