/**
 * mqtt.js clients a test drives by hand: a sensor impostor, a replayer of stale wills, a fuzzer.
 * No automatic reconnects, so a refusal is seen as a refusal.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { encodeMessage, Sequencer, type Body, type MessageKind } from '@pcapmesh/shared/wire';

export interface ClientSpec {
  url: string;
  username: string;
  password: string;
  /** Default: the user name (the embedded broker requires client id = sensor name). */
  clientId?: string;
  protocolVersion?: 4 | 5;
}

/** Connects or rejects with the broker's refusal (e.g. "Connection refused: Bad username or password"). */
export async function connectClient(spec: ClientSpec, extra: IClientOptions = {}): Promise<MqttClient> {
  const options: IClientOptions = {
    username: spec.username,
    password: spec.password,
    clientId: spec.clientId ?? spec.username,
    protocolVersion: spec.protocolVersion ?? 4,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    clean: true,
    ...extra,
  };
  const client = mqtt.connect(spec.url, options);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('connection closed before CONNACK')));
    });
  } catch (err) {
    client.end(true);
    throw err;
  }
  return client;
}

/** Resolves when the client's connection is closed (by the broker or by us). */
export function closed(client: MqttClient): Promise<void> {
  if (!client.connected && client.disconnected) return Promise.resolve();
  return new Promise((resolve) => client.once('close', () => resolve()));
}

/**
 * The QoS the broker granted to one subscription, or 128 when it refused it — whether the refusal
 * arrives as a SUBACK failure code (0x80, MQTT 5 0x87) or as a rejected subscribeAsync.
 */
export async function grantedQos(client: MqttClient, filter: string): Promise<number> {
  try {
    const granted = await client.subscribeAsync(filter, { qos: 1 });
    const qos = granted[0]?.qos;
    if (qos === undefined) throw new Error(`no SUBACK entry for ${filter}`);
    return qos >= 128 ? 128 : qos;
  } catch (err) {
    if (/subscribe error|not authori[sz]ed|unspecified|\b128\b|\b135\b/i.test(String(err))) return 128;
    throw err;
  }
}

/** Builds wire messages with a proper envelope, as an agent would. */
export class MessageFactory {
  private readonly sequencer: Sequencer;
  constructor(firstSeq = 1_000_000) {
    this.sequencer = new Sequencer(firstSeq);
  }

  encode<K extends MessageKind>(kind: K, body: Body<K>): Buffer {
    return Buffer.from(encodeMessage(kind, this.sequencer.stamp(kind, body)));
  }
}

/** A plausible health body (1 core, 1 GiB, no disks), for tests that need a valid message. */
export function healthBody(cpu = 12.5): Body<'health'> {
  return {
    cpu: { usage: cpu, cores: 1 },
    memory: { total: 1 << 30, used: 1 << 29, available: 1 << 29 },
    load: [0.1, 0.2, 0.3],
    uptime: 1234,
    disks: [],
    interfaces: [],
    captures: [],
  };
}
