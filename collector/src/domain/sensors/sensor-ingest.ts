/**
 * Applies agent messages to the fleet's state. Messages are applied in batches of many sensors,
 * each batch one transaction with its sensors' rows locked (in id order), so concurrent
 * collectors and the heartbeat sweep never interleave a status change; events are emitted, and
 * the fleet view (fleet-view.ts) updated, only after commit.
 *
 * State, health and availability messages share one batcher (domain/batcher.ts, group commit:
 * up to `sensorBatch.maxMessages` messages, sent `maxDelayMs` after the first when a slot is free,
 * else as soon as one frees, growing meanwhile); sensor-batch.ts applies a batch with a fixed
 * handful of multi-row statements. Each message's promise resolves only after its batch committed;
 * every message of a failed batch rejects (not acknowledged: the agents send them again, and every
 * store is idempotent by seq). Ingest (broker/ingest.ts) hands in a sensor's messages as one group
 * (`group()`: all that arrived while the sensor's previous group was being stored), one group per
 * sensor at a time; a group is never split over two batches, so a sensor's messages are applied in
 * arrival order even with two batches committing at once (PostgreSQL), and a spooled backlog is
 * stored many messages per commit.
 *
 * A message the database refuses for its own data (SQLSTATE class 22 data exception, 23 integrity
 * violation, 54 limit exceeded, raised when it is stored alone) would be refused on every resend:
 * it ends as 'unstorable', is logged with its sensor, kind and seq (never its payload), and the
 * caller acknowledges it, so it cannot block the sensor's queue for ever. Any other failure
 * (connection lost, a table missing, a timeout) fails the message, which is then resent.
 *
 * Ordering rules (envelope `seq` increases per agent message; `bdSeq` per connection):
 * - birth (state online): starts a session — bd_seq := bdSeq, last_seq := seq, status online.
 *   A birth with the current bdSeq and seq ≤ last_seq is a replay ('duplicate').
 * - will/shutdown (state offline): ignored as 'stale' when bdSeq < the current session's bdSeq,
 *   so a late will can never mark a reconnected sensor offline.
 * - health: the sample is stored once per (sensor, sentAt, seq) ('duplicate' otherwise); only a
 *   message newer than last_seq updates disks/devices/status (spooled backlog is history).
 * - pcap: applied when its seq is above the stored availability's seq.
 * - traffic: each (interval, part, src, dst) stored once: a located sensor's flows by the network
 *   view (`network`, domain/network/network.service.ts: network_traffic is the replay check, and
 *   only new rows reach the rollups), the others' in traffic_samples, in the same transaction.
 *   Traffic messages are batched (domain/batcher.ts): up to `trafficBatch.maxMessages` messages or
 *   `maxRows` flows, or what came within `maxDelayMs`, are applied in ONE transaction (sensors
 *   locked in id order, multi-row statements); each message's promise resolves only after that
 *   transaction committed, and every message of a failed batch rejects (not acknowledged: the
 *   agents send them again, and the replay stores only what is missing).
 */
import type { HealthMessage, PcapMessage, StateMessage, TrafficMessage } from '@pcapmesh/shared/wire';
import { Batcher } from '../batcher.js';
import type { Logger } from '../../log.js';
import type { Db, Queryable } from '../../storage/db.js';
import { lockSensors, touchSensors } from '../../storage/sensors.repo.js';
import { insertTrafficBatch, type TrafficFlow, type TrafficSampleSet } from '../../storage/traffic.repo.js';
import { invalid } from '../errors.js';
import type { DomainEvents } from '../events.js';
import type { FleetView } from './fleet-view.js';
import { applySensorBatch, validSentAt, type BatchResult, type SensorItem } from './sensor-batch.js';
import type { IngestOutcome } from './sensors.types.js';

/** What a TrafficSink recorded, handed back to it after commit: the locations it wrote to, and those whose traffic table it created. */
export type TrafficRecorded = { locations: number[]; createdTables: number[] } | null;

/** One traffic message of a sensor at a location (all its flows). */
export interface NewTraffic {
  sensorId: number;
  locationId: number;
  intervalStart: Date;
  part: string;
  flows: readonly TrafficFlow[];
}

/**
 * Stores a traffic batch's messages of located sensors in the ingest transaction, each row once
 * (NetworkService: network_traffic is the replay check), and says per message how many rows were new.
 */
export interface TrafficSink {
  recordTraffic(tx: Queryable, batch: NewTraffic[]): Promise<{ recorded: TrafficRecorded; stored: number[] }>;
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
  /** How state, health and availability messages are batched (defaults: sensorBatchDefaults(db.kind)). */
  sensorBatch?: Partial<SensorBatchSettings> | undefined;
  /** Told every committed change (SensorService's fleet view). */
  fleet?: FleetView | undefined;
}

export interface SensorBatchSettings {
  /** Messages in one transaction at most. */
  maxMessages: number;
  /** How long the first message of a batch waits for others while a slot is free. */
  maxDelayMs: number;
  /** Batches being stored at once. */
  concurrency: number;
}

/**
 * Defaults: up to 1,000 messages; 10 ms (under load a batch grows for as long as the one before it
 * takes: group commit); one batch at a time on PGlite (its queries are serialised anyway, and a
 * waiting batch keeps growing), two on PostgreSQL.
 */
export function sensorBatchDefaults(kind: Db['kind']): SensorBatchSettings {
  return { maxMessages: 1_000, maxDelayMs: 10, concurrency: kind === 'pglite' ? 1 : 2 };
}

/**
 * The SQLSTATE of an error caused by a statement's data (class 22 data exception, 23 integrity,
 * 54 limits), looked for along the `cause` chain; null for any other error.
 */
export function dataErrorCode(err: unknown): string | null {
  for (let e: unknown = err; e instanceof Object; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code)) return code;
  }
  return null;
}

/** One message's result in a group: its outcome, or the error that kept it from being stored. */
export type SensorItemResult = IngestOutcome | { error: unknown };

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

export class SensorIngest {
  private readonly trafficBatcher: Batcher<TrafficItem, IngestOutcome>;
  /** Items are groups (one sensor's messages, kept together); weight = messages. */
  private readonly sensorBatcher: Batcher<SensorItem[], SensorItemResult[]>;

  constructor(private readonly deps: SensorIngestDeps) {
    const sb = { ...sensorBatchDefaults(deps.db.kind), ...deps.sensorBatch };
    this.sensorBatcher = new Batcher((items) => this.sensorBatch(items), {
      maxItems: sb.maxMessages,
      maxWeight: sb.maxMessages,
      maxDelayMs: sb.maxDelayMs,
      concurrency: sb.concurrency,
      coalesce: true,
    });
    const b = { ...TRAFFIC_BATCH, ...deps.trafficBatch };
    this.trafficBatcher = new Batcher((items) => this.trafficBatch(items), {
      maxItems: b.maxMessages,
      maxWeight: b.maxRows,
      maxDelayMs: b.maxDelayMs,
      concurrency: b.concurrency,
    });
  }

  /** Birth or will/shutdown, in the next sensor batch; resolves after that batch committed. */
  state(sensor: string, msg: StateMessage): Promise<IngestOutcome> {
    return this.batched({ kind: 'state', sensor, msg });
  }

  /** A health report, in the next sensor batch; resolves after that batch committed. */
  health(sensor: string, msg: HealthMessage): Promise<IngestOutcome> {
    if (!validSentAt(msg)) return Promise.reject(invalid(`health of ${sensor}: sentAt ${msg.sentAt} is not a representable time`));
    return this.batched({ kind: 'health', sensor, msg });
  }

  /** An availability report, in the next sensor batch; resolves after that batch committed. */
  pcap(sensor: string, msg: PcapMessage): Promise<IngestOutcome> {
    return this.batched({ kind: 'pcap', sensor, msg });
  }

  /** Resolves when every state, health and availability message handed in so far was stored or failed. */
  drainSensors(): Promise<void> {
    return this.sensorBatcher.drain();
  }

  /**
   * State, health and availability messages of one sensor (or any messages that must stay in this
   * order), stored in the same batch, in order. Resolves after that batch committed with one result
   * per message: an outcome ('unstorable': refused by the database for its data, see the module
   * comment), or the error of a message that was not stored (a health report whose sending time is
   * not representable fails alone with DomainError 'invalid'). Rejects when the batch failed: then
   * none of the group was stored.
   */
  async group(items: readonly SensorItem[]): Promise<SensorItemResult[]> {
    const results: (SensorItemResult | undefined)[] = items.map((item) =>
      item.kind === 'health' && !validSentAt(item.msg)
        ? { error: invalid(`health of ${item.sensor}: sentAt ${item.msg.sentAt} is not a representable time`) }
        : undefined,
    );
    const valid = items.filter((_, k) => results[k] === undefined);
    if (valid.length > 0) {
      const stored = await this.sensorBatcher.add(valid, valid.length);
      let n = 0;
      for (let k = 0; k < results.length; k++) results[k] ??= stored[n++]!;
    }
    return results as SensorItemResult[];
  }

  private async batched(item: SensorItem): Promise<IngestOutcome> {
    const [r] = await this.sensorBatcher.add([item], 1);
    if (typeof r === 'string') return r;
    throw r!.error;
  }

  /**
   * One transaction for a batch of groups of state/health/availability messages (flattened, in
   * order; one result list per group). When the database refuses the batch for the data of a
   * message (SQLSTATE class 22/23/54: a value out of range, a NUL in a text), each message is tried
   * alone, so one bad message does not hold up the others, and one refused alone is 'unstorable';
   * any other failure (the database is down, a table is gone) fails every message of the batch.
   */
  private async sensorBatch(groups: SensorItem[][]): Promise<SensorItemResult[][]> {
    const items = groups.flat();
    let flat: SensorItemResult[];
    try {
      flat = (await this.commitSensorBatch(items)).outcomes;
    } catch (err) {
      if (dataErrorCode(err) === null) throw err;
      if (items.length === 1) flat = [this.unstorable(items[0]!, err)];
      else {
        // Not the error itself: a database error carries the statement's parameters (every message's payload).
        this.deps.log.warn(
          { messages: items.length, sqlstate: dataErrorCode(err), reason: (err as Error).message },
          'a sensor batch was refused for its data; storing its messages one by one',
        );
        flat = [];
        for (const item of items) {
          try {
            flat.push((await this.commitSensorBatch([item])).outcomes[0]!);
          } catch (one) {
            flat.push(dataErrorCode(one) === null ? { error: one } : this.unstorable(item, one));
          }
        }
      }
    }
    let k = 0;
    return groups.map((g) => flat.slice(k, (k += g.length)));
  }

  /** A message the database refused alone for its data: logged (no payload) and 'unstorable'. */
  private unstorable(item: SensorItem, err: unknown): IngestOutcome {
    this.deps.log.warn(
      { sensor: item.sensor, kind: item.kind, seq: item.msg.seq, sqlstate: dataErrorCode(err), reason: (err as Error).message },
      'the database refuses this sensor message for its data; acknowledged and dropped (counted as unstorable)',
    );
    return 'unstorable';
  }

  private async commitSensorBatch(items: SensorItem[]): Promise<BatchResult> {
    const result = await this.deps.db.transaction((tx) => applySensorBatch(tx, items, this.deps.now(), this.deps.log));
    this.deps.fleet?.apply(result.changes);
    for (const event of result.events) {
      if (event.type === 'sensor.status') {
        this.deps.log.info({ sensor: event.sensor, status: event.status, previous: event.previous, reason: event.reason }, 'sensor status changed');
        this.deps.events.emit('sensor.status', event);
      } else this.deps.events.emit('sensor.health', event);
    }
    return result;
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
      // Located sensors' messages go to the network view, which stores each row once; the others'
      // to traffic_samples (same replay rule). fresh[s]: how many of set s's rows were new.
      const located = (set: (typeof sets)[number]): set is TrafficSampleSet & { locationId: number } => network !== undefined && set.locationId !== null;
      const plain = await insertTrafficBatch(
        tx,
        sets.filter((set) => !located(set)),
      );
      let viaNetwork: number[] = [];
      if (network) {
        const r = await network.recordTraffic(
          tx,
          sets
            .filter(located)
            .map((set) => ({ sensorId: set.sensorId, locationId: set.locationId, intervalStart: set.intervalStart, part: set.part, flows: set.flows })),
        );
        recorded = r.recorded;
        viaNetwork = r.stored;
      }
      let p = 0;
      let n = 0;
      const fresh = sets.map((set) => (located(set) ? viaNetwork[n++]! : plain[p++]!.length));
      const out = items.map((_, k): IngestOutcome => {
        const s = setOf[k]!;
        if (s < 0) return 'unknown-sensor';
        return fresh[s] === 0 && sets[s]!.flows.length > 0 ? 'duplicate' : 'applied';
      });
      const applied = sets.filter((_, s) => fresh[s]! > 0 || sets[s]!.flows.length === 0);
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
}
