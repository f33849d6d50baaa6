/**
 * What the rest of the collector needs from MQTT, whichever broker carries it: the embedded aedes
 * (embedded.ts) or an external broker the collector is a client of (external.ts).
 */
import type { BrokerLimitCounters } from './limits.js';

/**
 * Receives one message published under `sensors/#`. The returned promise settles when the message
 * has been handled; it must not reject (ingest counts its own failures). 'retry': it could not be
 * stored — the transport must not acknowledge it, so the sensor sends it again.
 */
export type SensorMessageHandler = (topic: string, payload: Buffer) => Promise<'done' | 'retry' | void>;

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
}

export interface BrokerStatus {
  mode: 'embedded' | 'external';
  /** Connected MQTT clients (embedded), or 1/0 for the collector's own connection (external). */
  clients: number;
  ok: boolean;
  /** Refusals by limit since start (embedded broker; limits.ts). */
  limits?: BrokerLimitCounters;
}

export interface BrokerTransport {
  readonly mode: BrokerStatus['mode'];
  /** Starts delivering every sensor message to `handler`. Call once. */
  consume(handler: SensorMessageHandler): Promise<void>;
  /** Publishes as the collector (commands, events). */
  publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void>;
  status(): BrokerStatus;
  /** Stops listening / disconnects; resolves when every socket is closed. */
  close(): Promise<void>;
}
