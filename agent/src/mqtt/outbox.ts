/**
 * The one way agent modules send messages: stamp the envelope (schema version, time, seq),
 * encode to CBOR, append to the spool, and nudge the connection to publish. Channels: `send`
 * (health, pcap, traffic), `taskStatus` and `estimate`. Everything sent here
 * is QoS 1 and survives outages and restarts (within the spool's bound).
 */
import { encodeMessage, topics, type Body, type Sequencer } from '@pcapmesh/shared/wire';
import type { Spool } from './spool.js';

type SpooledChannel = 'health' | 'pcap' | 'traffic';

export class Outbox {
  constructor(
    private readonly sensor: string,
    private readonly spool: Spool,
    private readonly sequencer: Sequencer,
    private readonly notify: () => void,
  ) {}

  /**
   * Queues a message on `sensors/{name}/{channel}`. Availability (`pcap`) is retained: the latest
   * report is what a newly started collector must see.
   */
  send<K extends SpooledChannel>(channel: K, body: Body<K>): void {
    const message = this.sequencer.stamp(channel, body);
    this.spool.append({
      kind: channel,
      topic: topics.sensor(this.sensor, channel),
      payload: encodeMessage(channel, message),
      retain: channel === 'pcap',
      seq: message.seq,
    });
    this.notify();
  }

  /** Queues a task's status on `sensors/{name}/tasks/{taskId}` (docs/jobs.md). */
  taskStatus(body: Body<'task-status'>): void {
    const message = this.sequencer.stamp('task-status', body);
    this.spool.append({
      kind: 'task-status',
      topic: topics.taskStatus(this.sensor, body.taskId),
      payload: encodeMessage('task-status', message),
      retain: false,
      seq: message.seq,
    });
    this.notify();
  }

  /** Queues a dry run's answer on `sensors/{name}/estimates/{requestId}`. */
  estimate(body: Body<'estimate'>): void {
    const message = this.sequencer.stamp('estimate', body);
    this.spool.append({
      kind: 'estimate',
      topic: topics.estimate(this.sensor, body.requestId),
      payload: encodeMessage('estimate', message),
      retain: false,
      seq: message.seq,
    });
    this.notify();
  }
}
