/**
 * Limits of the embedded broker that hold before aedes sees a packet (docs/mqtt.md "Limits"):
 *
 * - `watchPacketSizes(socket, …)`: reads each MQTT fixed header (packet type and remaining length,
 *   MQTT 3.1.1 §2.2) as the bytes pass and destroys the socket as soon as a header announces a
 *   packet over its type's limit — before its body is buffered. CONNECT ≤ 4 KiB, PUBLISH ≤ the
 *   codec's payload limit (MAX_PAYLOAD_BYTES) plus 8 KiB (topic, packet id, and slack so that a
 *   payload a little over the codec's limit still reaches ingest and is counted there as
 *   'oversized' without costing the sensor its connection), anything else ≤ 4 KiB; a remaining
 *   length longer than four bytes is malformed and treated the same way.
 * - `ConnectionsPerAddress`: at most `max` open connections per source address; the next one is
 *   closed at once.
 *
 * Every refusal is counted in `BrokerLimitCounters` (reported by the broker's status(): the admin
 * system page and GET /health/summary).
 */
import type { Socket } from 'node:net';
import { MAX_PAYLOAD_BYTES } from '@pcapmesh/shared/wire';

/** Refusals by limit since start. */
export interface BrokerLimitCounters {
  /** Connections closed because a packet announced more bytes than its type may have. */
  oversized: number;
  /** Publishes refused because they asked to retain on a topic other than state and pcap. */
  retain: number;
  /** Task status publishes refused because the task is another sensor's. */
  task: number;
  /** Connections closed because their address had `maxConnectionsPerAddress` open already. */
  connections: number;
  /** CONNECTs refused because their address failed to log in too often (connect-attempts.ts). */
  logins: number;
  /** CONNECTs answered CONNACK 3 because the broker was over its connect rate (ConnectGate). */
  busy: number;
}

export const newLimitCounters = (): BrokerLimitCounters => ({ oversized: 0, retain: 0, task: 0, connections: 0, logins: 0, busy: 0 });

/** Largest CONNECT (client id, name, secret and will together). */
export const MAX_CONNECT_BYTES = 4 * 1024;
/** Largest PUBLISH: the codec's payload limit plus 8 KiB for topic, packet id and slack (see above). */
export const MAX_PUBLISH_BYTES = MAX_PAYLOAD_BYTES + 8 * 1024;
/** Largest packet of any other type (SUBSCRIBE, acknowledgements, PINGREQ…). */
export const MAX_OTHER_BYTES = 4 * 1024;

const CONNECT = 1;
const PUBLISH = 3;

/** The largest remaining length a packet of `type` (the fixed header's upper 4 bits) may announce. */
export function packetLimit(type: number): number {
  if (type === CONNECT) return MAX_CONNECT_BYTES;
  if (type === PUBLISH) return MAX_PUBLISH_BYTES;
  return MAX_OTHER_BYTES;
}

/**
 * A streaming reader of MQTT fixed headers: `push(chunk)` returns null while every packet so far is
 * within its limit, else a description of the first one that is not. Bodies are skipped, never kept.
 */
export class FixedHeaderReader {
  private state: 'type' | 'length' | 'body' = 'type';
  private type = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  push(chunk: Uint8Array): string | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skip = Math.min(this.remaining, chunk.length - i);
        i += skip;
        this.remaining -= skip;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'type') {
        this.type = byte >> 4;
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        this.state = 'length';
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return `packet type ${this.type}: remaining length longer than 4 bytes`;
        continue;
      }
      const limit = packetLimit(this.type);
      if (this.length > limit) return `packet type ${this.type} announces ${this.length} bytes, limit ${limit}`;
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return null;
  }
}

/**
 * Watches the bytes aedes reads from `socket` (a 'data' listener next to aedes' 'readable' one sees
 * each chunk as aedes reads it, without changing the flow) and destroys the socket at the first
 * header over its limit, calling `onOversized` once.
 */
export function watchPacketSizes(socket: Socket, onOversized: (detail: string) => void): void {
  const reader = new FixedHeaderReader();
  const onData = (chunk: Buffer) => {
    const violation = reader.push(chunk);
    if (violation === null) return;
    socket.off('data', onData);
    onOversized(violation);
    socket.destroy();
  };
  socket.on('data', onData);
}

/** Open connections per source address, capped at `max`. */
export class ConnectionsPerAddress {
  private readonly open = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Registers `socket`; false (and nothing registered) when its address is at the cap already. */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress ?? '';
    const n = this.open.get(address) ?? 0;
    if (n >= this.max) return false;
    this.open.set(address, n + 1);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left <= 0) this.open.delete(address);
      else this.open.set(address, left);
    });
    return true;
  }

  /** Addresses with open connections (bounded by the open sockets). */
  get addresses(): number {
    return this.open.size;
  }
}
