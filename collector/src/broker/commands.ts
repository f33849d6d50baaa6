/**
 * Commands to sensors: `commands/{sensor}/tasks|cancel|estimate`, CBOR with the envelope filled in
 * (schema version, sending time, seq), QoS 1, never retained (a retained command would be replayed
 * to an agent that already finished it). The seq starts at the start time in µs, so it keeps rising
 * across collector restarts.
 *
 * @example
 *   const commands = new BrokerCommands(broker);
 *   await commands.send('edge-1', 'cancel', { taskId, reason: 'cancelled by alice' });
 */
import { SCHEMA_VERSION, encodeMessage, topics, type Command, type MessageKind } from '@pcapmesh/shared/wire';
import type { CommandBodies, CommandSender } from '../domain/jobs/jobs.ports.js';
import type { BrokerTransport } from './transport.js';

const KIND: { [C in Command]: MessageKind } = { tasks: 'task', cancel: 'cancel', estimate: 'estimate-command' };

export class BrokerCommands implements CommandSender {
  private seq: number;
  readonly counters = { sent: 0, failed: 0 };

  constructor(
    private readonly broker: Pick<BrokerTransport, 'publish'>,
    private readonly now: () => number = Date.now,
  ) {
    this.seq = now() * 1000;
  }

  async send<C extends Command>(sensor: string, command: C, body: CommandBodies[C]): Promise<void> {
    this.seq += 1;
    const message = { ...body, v: SCHEMA_VERSION, sentAt: this.now(), seq: this.seq };
    const payload = Buffer.from(encodeMessage(KIND[command], message as never));
    try {
      await this.broker.publish(topics.command(sensor, command), payload, { qos: 1 });
      this.counters.sent += 1;
    } catch (err) {
      this.counters.failed += 1;
      throw err;
    }
  }
}
