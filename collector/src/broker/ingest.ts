/**
 * Ingest: turns sensor messages into service calls. One dispatch table by topic channel:
 *
 *   topic ──parseTopic──▶ channel ──decodeMessage(kind)──▶ typed message ──▶ service.ingestX(sensor, msg)
 *
 * Contract:
 * - `handle()` never rejects. Every message ends as exactly one count in IngestStats: accepted by
 *   kind, or rejected by reason (decode failures, unknown-topic, the service's outcome
 *   unknown-sensor / duplicate / stale, store-error). Store errors are logged with the sensor; the rest only counted (hot path).
 * - `handle()` resolves to 'retry' when the message could not be stored (store-error: the database
 *   failed), else 'done'. The transport must then not acknowledge it (embedded: the sensor is
 *   disconnected before its PUBACK; external: the PUBACK is withheld and the message retried), so
 *   the agent keeps it in its spool and sends it again; every store is idempotent by seq.
 * - A sensor's messages are applied one at a time in arrival order (a queue per sensor); different
 *   sensors proceed concurrently, and the service stores many sensors' messages in one transaction
 *   (domain/sensors/sensor-ingest.ts batches them), resolving each only after that commit, so the
 *   transport acknowledges a message only once it is stored.
 * - A message the schema accepted but the service refuses as invalid (DomainError 'invalid') counts
 *   as 'schema' and is acknowledged (sending it again would not help).
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
import { decodeMessage, parseTopic, type EstimateMessage, type MessageOf, type SensorChannel, type TaskStatusMessage } from '@pcapmesh/shared/wire';
import { isDomainError } from '../domain/errors.js';
import type { IngestStats, RejectReason } from '../domain/ingest-stats.js';
import type { SensorService } from '../domain/sensors/sensors.service.js';
import type { IngestOutcome } from '../domain/sensors/sensors.types.js';

/** The slice of SensorService that ingest calls. */
export type IngestTarget = Pick<SensorService, 'ingestState' | 'ingestHealth' | 'ingestPcap' | 'ingestTraffic'>;

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

type Apply<K extends SensorChannel> = (target: IngestTarget, sensor: string, msg: MessageOf<K>) => Promise<IngestOutcome>;

/** The dispatch table: one entry per sensor channel (the channel name is also the message kind). */
const dispatch: { [K in SensorChannel]: Apply<K> } = {
  state: (target, sensor, msg) => target.ingestState(sensor, msg),
  health: (target, sensor, msg) => target.ingestHealth(sensor, msg),
  pcap: (target, sensor, msg) => target.ingestPcap(sensor, msg),
  traffic: (target, sensor, msg) => target.ingestTraffic(sensor, msg),
};

export class Ingest {
  /** Tail of each sensor's queue; removed when the sensor's queue runs empty. */
  private readonly queues = new Map<string, Promise<IngestResult>>();

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
      return this.admitted(parsed.sensor).then((result) => {
        if (result === 'admitted') this.applyEstimate(parsed.sensor, payload);
        return 'done';
      });
    }
    const { sensor } = parsed;
    const previous: Promise<unknown> = this.queues.get(sensor) ?? Promise.resolve();
    const next = previous.then(async (): Promise<IngestResult> => {
      const admitted = this.standing === undefined ? 'admitted' : await this.admitted(sensor);
      if (admitted !== 'admitted') return admitted;
      return parsed.kind === 'sensor' ? this.apply(sensor, parsed.channel, payload) : this.applyTaskStatus(sensor, parsed.taskId, payload);
    });
    this.queues.set(sensor, next);
    void next.then(() => {
      if (this.queues.get(sensor) === next) this.queues.delete(sensor);
    });
    return next;
  }

  /** Asks the gate; a refused sensor's message is counted here. A failed lookup is a 'retry'. */
  private async admitted(sensor: string): Promise<'admitted' | IngestResult> {
    try {
      const standing = await this.standing!(sensor);
      if (standing === 'active') return 'admitted';
      this.stats.rejected(standing === 'revoked' ? 'revoked-sensor' : 'unknown-sensor');
      return 'done';
    } catch (err) {
      this.stats.rejected('store-error');
      this.log.error({ sensor, err }, 'checking the sensor failed; not acknowledged, the sensor sends it again');
      return 'retry';
    }
  }

  /** Resolves when every message handed in so far has been applied. */
  async drain(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  private async apply<K extends SensorChannel>(sensor: string, channel: K, payload: Uint8Array): Promise<IngestResult> {
    const decoded = decodeMessage(channel, payload);
    if (!decoded.ok) {
      this.stats.rejected(decoded.reason);
      return 'done';
    }
    try {
      const outcome = await dispatch[channel](this.target, sensor, decoded.message);
      if (outcome === 'applied') this.stats.accepted(channel);
      else this.stats.rejected(outcome);
      if (outcome === 'applied' && channel === 'state' && (decoded.message as MessageOf<'state'>).status === 'online' && this.jobs?.sensorBorn) {
        this.jobs.sensorBorn(sensor).catch((err: unknown) => this.log.error({ sensor, err }, 're-sending tasks after a birth failed'));
      }
      return 'done';
    } catch (err) {
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
      this.log.error({ sensor, channel, err }, 'storing a sensor message failed; not acknowledged, the sensor sends it again');
      return 'retry';
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
