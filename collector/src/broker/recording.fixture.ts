/**
 * Test fixture: an in-process BrokerTransport that keeps what the collector publishes and lets a
 * test deliver sensor messages to the consumer, with no sockets. Published commands can be decoded
 * with `commands(kind)`; `onPublish` lets a test play an agent that answers a command.
 */
import { decodeMessage, parseTopic, type Command, type MessageKind, type MessageOf } from '@pcapmesh/shared/wire';
import type { BrokerStatus, BrokerTransport, PublishOptions, SensorMessageHandler } from './transport.js';

export interface Published {
  topic: string;
  payload: Buffer;
  options: PublishOptions;
}

interface CommandKinds {
  tasks: 'task';
  cancel: 'cancel';
  estimate: 'estimate-command';
}
const KIND: { [C in Command]: CommandKinds[C] & MessageKind } = { tasks: 'task', cancel: 'cancel', estimate: 'estimate-command' };

export class RecordingBroker implements BrokerTransport {
  readonly mode = 'embedded' as const;
  readonly published: Published[] = [];
  /** Called after each publish is recorded (e.g. an agent answering a command). */
  onPublish: ((p: Published) => void) | undefined;
  /** When set, publish rejects with it (a broker that is gone). */
  failWith: Error | undefined;
  private handler: SensorMessageHandler | undefined;
  private closed = false;

  async consume(handler: SensorMessageHandler): Promise<void> {
    this.handler = handler;
  }

  async publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void> {
    if (this.closed) throw new Error('broker closed');
    if (this.failWith) throw this.failWith;
    const p = { topic, payload, options };
    this.published.push(p);
    this.onPublish?.(p);
  }

  /** Hands a sensor message to the consumer as the broker would. */
  async deliver(topic: string, payload: Uint8Array): Promise<void> {
    if (!this.handler) throw new Error('nothing consumes yet');
    await this.handler(topic, Buffer.from(payload));
  }

  /** The decoded commands of one kind, in publish order, with the sensor each went to. */
  commands<C extends Command>(command: C, sensor?: string): { sensor: string; message: MessageOf<CommandKinds[C]> }[] {
    const out: { sensor: string; message: MessageOf<CommandKinds[C]> }[] = [];
    for (const p of this.published) {
      const parsed = parseTopic(p.topic);
      if (parsed?.kind !== 'command' || parsed.command !== command || (sensor !== undefined && parsed.sensor !== sensor)) continue;
      const decoded = decodeMessage(KIND[command], p.payload);
      if (!decoded.ok) throw new Error(`published ${p.topic} does not decode: ${decoded.detail}`);
      out.push({ sensor: parsed.sensor, message: decoded.message as MessageOf<CommandKinds[C]> });
    }
    return out;
  }

  status(): BrokerStatus {
    return { mode: 'embedded', clients: 0, ok: !this.closed };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
