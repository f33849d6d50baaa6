/**
 * Ingest: turns sensor messages into service calls.
 *
 *   topic ──parseTopic──▶ sensor's queue ──decodeMessage(kind)──▶ typed messages ──▶ service.ingestSensorMessages(group)
 *                                                                                  (traffic: ingestTraffic; task status: jobs)
 *
 * Contract:
 * - `handle()` never rejects. Every message ends as exactly one count in IngestStats: accepted by
 *   kind, or rejected by reason (decode failures, unknown-topic, the service's outcome
 *   unknown-sensor / duplicate / stale / unstorable, store-error). Store errors are logged with the sensor; the rest only counted (hot path).
 * - `handle()` resolves to 'retry' when the message could not be stored (store-error: the database
 *   failed), else 'done'. The transport must then not acknowledge it (embedded: the sensor is
 *   disconnected before its PUBACK; external: the PUBACK is withheld and the message retried), so
 *   the agent keeps it in its spool and sends it again; every store is idempotent by seq.
 * - A sensor's messages are applied in arrival order (a queue per sensor), pipelined: everything
 *   that arrived while the sensor's previous group was being stored (at most MAX_GROUP messages)
 *   goes to the service as ONE group — its state, health and availability messages in one batch
 *   (domain/sensors/sensor-ingest.ts `group`, which stores many sensors' groups in one transaction
 *   and never splits a group), a traffic or task status message alone in its place in the order.
 *   So a spooled backlog is stored many messages per commit, not one. Each message resolves
 *   only after the commit that stored it, so the transport acknowledges a message only once it is
 *   stored; when that commit fails, every message of it resolves 'retry'. Different sensors proceed
 *   concurrently.
 * - A message the schema accepted but the service refuses as invalid (DomainError 'invalid') counts
 *   as 'schema' and is acknowledged (sending it again would not help); one the database refuses for
 *   its own data counts as 'unstorable' (the service logs it) and is acknowledged too.
 * - `drain()` resolves once everything handed in so far has been applied (used at shutdown).
 *
 * Sensor gate (optional, used with an external broker, which keeps accepting a revoked sensor's
 * publishes): every message of a sensor whose `standing` is 'revoked' or 'unknown' is counted as
 * 'revoked-sensor' / 'unknown-sensor' and dropped before it is decoded.
 *
 * Jobs (docs/jobs.md): task statuses (`sensors/{name}/tasks/{task}`) go to the jobs target in the
 * sensor's queue, so one sensor's statuses are applied in order; each applied birth tells the jobs
 * target (`sensorBorn`) so the sensor's unfinished tasks are sent again; dry-run answers
 * (`sensors/{name}/estimates/{request}`) are matched to their question at once. A status for a task
 * of another sensor counts as 'not-permitted', one for no known task as 'unknown-topic', an older
 * attempt's or seq's as 'stale'. Without a jobs target (tests of the sensor path) both count as
 * 'unknown-topic'.
 */
import type { Logger } from 'pino';
import { decodeMessage, parseTopic, type EstimateMessage, type SensorChannel, type TaskStatusMessage } from '@pcapmesh/shared/wire';
import { isDomainError } from '../domain/errors.js';
import type { IngestStats, RejectReason } from '../domain/ingest-stats.js';
import type { SensorService } from '../domain/sensors/sensors.service.js';
import type { SensorItem } from '../domain/sensors/sensor-batch.js';
import type { SensorItemResult } from '../domain/sensors/sensor-ingest.js';

/** The slice of SensorService that ingest calls. */
export type IngestTarget = Pick<SensorService, 'ingestSensorMessages' | 'ingestTraffic'>;

/** The slice of JobsService that ingest calls. */
export interface JobsIngestTarget {
  ingestTaskStatus(sensor: string, taskId: string, msg: TaskStatusMessage): Promise<'applied' | RejectReason>;
  ingestEstimate(sensor: string, msg: EstimateMessage): 'applied' | RejectReason;
  /**
   * A birth of `sensor` was applied (JobScheduler.sensorOnline): its unfinished tasks are sent
   * again, since the agent's clean session lost what came while it was away. Not awaited by ingest.
   */
  sensorBorn?(sensor: string): Promise<unknown>;
}

/** The gate: whether a sensor's messages are taken (SensorService.standing). */
export type SensorStanding = (sensor: string) => Promise<'active' | 'revoked' | 'unknown'>;

/** 'retry': not stored because storage failed — do not acknowledge (see the contract). */
export type IngestResult = 'done' | 'retry';

/**
 * Most messages of one sensor in one group. The embedded broker hands a connection's messages
 * over one socket read at a time (aedes reads on once all of them are answered), so a group is at
 * most about one read (tens of health reports); the cap bounds what an external broker can queue.
 */
export const MAX_GROUP = 500;

/** A message waiting in its sensor's queue. */
interface Entry {
  topic: { kind: 'sensor'; channel: SensorChannel } | { kind: 'task-status'; taskId: string };
  payload: Uint8Array;
  done: (result: IngestResult) => void;
}

/** A decoded state, health or availability message waiting for its group's batch. */
type Batched = { entry: Entry; item: SensorItem };

export class Ingest {
  /** Each sensor's waiting messages; a sensor is in the map while its queue is being worked. */
  private readonly queues = new Map<string, Entry[]>();
  /** The running queue workers, for drain(). */
  private readonly workers = new Set<Promise<void>>();

  constructor(
    private readonly target: IngestTarget,
    private readonly stats: IngestStats,
    private readonly log: Logger,
    private readonly jobs?: JobsIngestTarget,
    private readonly standing?: SensorStanding,
  ) {}

  /** Handles one message; resolves when it has been applied or counted as rejected. Never rejects. */
  handle(topic: string, payload: Uint8Array): Promise<IngestResult> {
    const parsed = parseTopic(topic);
    if (
      parsed === null ||
      (parsed.kind !== 'sensor' && this.jobs === undefined) ||
      (parsed.kind !== 'sensor' && parsed.kind !== 'task-status' && parsed.kind !== 'estimate')
    ) {
      this.stats.rejected('unknown-topic');
      return Promise.resolve('done');
    }
    if (parsed.kind === 'estimate') {
      if (this.standing === undefined) {
        this.applyEstimate(parsed.sensor, payload);
        return Promise.resolve('done');
      }
      return this.admitted(parsed.sensor, 1).then((result) => {
        if (result === 'admitted') this.applyEstimate(parsed.sensor, payload);
        return 'done';
      });
    }
    const { sensor } = parsed;
    return new Promise<IngestResult>((done) => {
      const entry: Entry = {
        topic: parsed.kind === 'sensor' ? { kind: 'sensor', channel: parsed.channel } : { kind: 'task-status', taskId: parsed.taskId },
        payload,
        done,
      };
      const queue = this.queues.get(sensor);
      if (queue) {
        queue.push(entry);
        return;
      }
      this.queues.set(sensor, [entry]);
      const worker = this.work(sensor).catch((err: unknown) => this.log.error({ sensor, err }, 'ingest queue failed'));
      this.workers.add(worker);
      void worker.then(() => this.workers.delete(worker));
    });
  }

  /** Resolves when every message handed in so far has been applied. */
  async drain(): Promise<void> {
    while (this.workers.size > 0) await Promise.all(this.workers);
  }

  /** Works off one sensor's queue, a group at a time, until it is empty. */
  private async work(sensor: string): Promise<void> {
    for (;;) {
      const queue = this.queues.get(sensor)!;
      if (queue.length === 0) {
        this.queues.delete(sensor);
        return;
      }
      const group = queue.splice(0, MAX_GROUP);
      try {
        await this.applyGroup(sensor, group);
      } catch (err) {
        // Not expected (every step counts its own failures); whatever is unanswered is resent.
        this.log.error({ sensor, err }, 'applying a group of sensor messages failed; not acknowledged, the sensor sends them again');
        for (const e of group) e.done('retry');
      }
    }
  }

  /** Asks the gate; a refused sensor's `n` messages are counted here. A failed lookup is a 'retry'. */
  private async admitted(sensor: string, n: number): Promise<'admitted' | IngestResult> {
    try {
      const standing = await this.standing!(sensor);
      if (standing === 'active') return 'admitted';
      for (let i = 0; i < n; i++) this.stats.rejected(standing === 'revoked' ? 'revoked-sensor' : 'unknown-sensor');
      return 'done';
    } catch (err) {
      for (let i = 0; i < n; i++) this.stats.rejected('store-error');
      this.log.error({ sensor, err }, 'checking the sensor failed; not acknowledged, the sensor sends it again');
      return 'retry';
    }
  }

  /**
   * One group of a sensor's messages, in order: runs of state/health/availability messages go to
   * the service as one batch each; a traffic or task status message is applied alone in between.
   */
  private async applyGroup(sensor: string, group: Entry[]): Promise<void> {
    if (this.standing !== undefined) {
      const admitted = await this.admitted(sensor, group.length);
      if (admitted !== 'admitted') {
        for (const e of group) e.done(admitted);
        return;
      }
    }
    let run: Batched[] = [];
    for (const entry of group) {
      const { topic } = entry;
      if (topic.kind === 'sensor' && topic.channel !== 'traffic') {
        const decoded = decodeMessage(topic.channel, entry.payload);
        if (!decoded.ok) {
          this.stats.rejected(decoded.reason);
          entry.done('done');
        } else run.push({ entry, item: { kind: topic.channel, sensor, msg: decoded.message } as SensorItem });
        continue;
      }
      if (run.length > 0) await this.applyRun(sensor, run);
      run = [];
      entry.done(topic.kind === 'sensor' ? await this.applyTraffic(sensor, entry.payload) : await this.applyTaskStatus(sensor, topic.taskId, entry.payload));
    }
    if (run.length > 0) await this.applyRun(sensor, run);
  }

  /** State, health and availability messages of one sensor in one batch; answers each. */
  private async applyRun(sensor: string, run: Batched[]): Promise<void> {
    let results: SensorItemResult[];
    try {
      results = await this.target.ingestSensorMessages(run.map((b) => b.item));
    } catch (err) {
      for (const b of run) {
        this.stats.rejected('store-error');
        b.entry.done('retry');
      }
      const seqs = run.map((b) => b.item.msg.seq);
      this.log.error(
        { sensor, messages: run.length, firstSeq: seqs[0], lastSeq: seqs.at(-1), err: errorSummary(err) },
        'storing sensor messages failed; not acknowledged, the sensor sends them again',
      );
      return;
    }
    run.forEach(({ entry, item }, k) => entry.done(this.count(sensor, item, results[k]!)));
  }

  /** Counts one message's result; 'retry' when it was not stored for a reason that may pass. */
  private count(sensor: string, item: SensorItem, result: SensorItemResult): IngestResult {
    if (typeof result === 'string') {
      if (result === 'applied') this.stats.accepted(item.kind);
      else this.stats.rejected(result);
      if (result === 'applied' && item.kind === 'state' && item.msg.status === 'online' && this.jobs?.sensorBorn) {
        this.jobs.sensorBorn(sensor).catch((err: unknown) => this.log.error({ sensor, err }, 're-sending tasks after a birth failed'));
      }
      return 'done';
    }
    return this.failed(sensor, item.kind, item.msg.seq, result.error);
  }

  /** A message the service threw on: counted by what the error says; 'retry' unless resending cannot help. */
  private failed(sensor: string, channel: SensorChannel, seq: number, err: unknown): IngestResult {
    if (isDomainError(err, 'not_found')) {
      this.stats.rejected('unknown-sensor');
      return 'done';
    }
    if (isDomainError(err, 'invalid')) {
      // Passed the schema but cannot be stored (e.g. a sending time past the last representable date).
      this.stats.rejected('schema');
      return 'done';
    }
    this.stats.rejected('store-error');
    this.log.error({ sensor, channel, seq, err: errorSummary(err) }, 'storing a sensor message failed; not acknowledged, the sensor sends it again');
    return 'retry';
  }

  private async applyTraffic(sensor: string, payload: Uint8Array): Promise<IngestResult> {
    const decoded = decodeMessage('traffic', payload);
    if (!decoded.ok) {
      this.stats.rejected(decoded.reason);
      return 'done';
    }
    try {
      const outcome = await this.target.ingestTraffic(sensor, decoded.message);
      if (outcome === 'applied') this.stats.accepted('traffic');
      else this.stats.rejected(outcome);
      return 'done';
    } catch (err) {
      return this.failed(sensor, 'traffic', decoded.message.seq, err);
    }
  }

  private async applyTaskStatus(sensor: string, taskId: string, payload: Uint8Array): Promise<IngestResult> {
    const decoded = decodeMessage('task-status', payload);
    if (!decoded.ok) {
      this.stats.rejected(decoded.reason);
      return 'done';
    }
    try {
      const outcome = await this.jobs!.ingestTaskStatus(sensor, taskId, decoded.message);
      if (outcome === 'applied') this.stats.accepted('task-status');
      else this.stats.rejected(outcome);
      return 'done';
    } catch (err) {
      this.stats.rejected('store-error');
      this.log.error({ sensor, task: taskId, err }, 'applying a task status failed; not acknowledged, the sensor sends it again');
      return 'retry';
    }
  }

  private applyEstimate(sensor: string, payload: Uint8Array): void {
    const decoded = decodeMessage('estimate', payload);
    if (!decoded.ok) {
      this.stats.rejected(decoded.reason);
      return;
    }
    const outcome = this.jobs!.ingestEstimate(sensor, decoded.message);
    if (outcome === 'applied') this.stats.accepted('estimate');
    else this.stats.rejected(outcome);
  }
}

/**
 * What a store error's log line carries: its name, message, SQLSTATE and stack, and its cause's
 * message. Not the error object: a database error also carries the statement's parameters,
 * i.e. the payloads of every message of the batch.
 */
export function errorSummary(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const { code } = err as { code?: unknown };
  return {
    name: err.name,
    message: err.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(err.cause instanceof Error ? { cause: err.cause.message } : {}),
    stack: err.stack,
  };
}
