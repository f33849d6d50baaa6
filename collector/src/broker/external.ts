/**
 * The collector as a client of an external MQTT broker (`mqtt.url`, e.g. Mosquitto 2, EMQX):
 * the broker enforces the sensors' ACL; the collector only consumes and publishes.
 *
 * - Connects with MQTT 5 and consumes through the shared subscription
 *   `$share/{group}/pcapmesh/v1/sensors/#`, so several collectors split the sensors' messages.
 *   A broker that refuses MQTT 5 (CONNACK "unacceptable protocol version") or announces no shared
 *   subscriptions (CONNACK property "Shared Subscription Available" 0) is refused at start with
 *   ExternalBrokerUnsuitableError saying what to use: without them every collector would store
 *   every message (issue #16).
 * - A QoS 1 message is acknowledged only after the handler has finished with it (mqtt.js sends the
 *   PUBACK when `handleMessage` calls back), so a collector that dies mid-message gets it again.
 *   A message the handler could not store ('retry': the database failed) is handled again after
 *   1 s, doubling to 30 s, and acknowledged only once stored (or when the collector closes without
 *   acknowledging it); the broker's receive maximum bounds how many wait so.
 * - Shared subscriptions receive no retained messages (MQTT 5 §4.8.2): births and availability
 *   published before the collector subscribed arrive with the agent's next publish or reconnect.
 * - With `sessionExpirySeconds` > 0 and MQTT 5 the session outlives the connection (clean start
 *   off, that session expiry) under a client id that must be stable per collector (cluster.service.ts
 *   derives it from the host and data directory): a message in flight when the collector was
 *   killed, and its share of the group queued while it was down, arrive when it reconnects. A
 *   stop on purpose (`close()`) ends the session, so nothing queues for a collector shut down.
 * - The initial connection must succeed (start fails with the broker's answer); afterwards
 *   mqtt.js reconnects every second, re-subscribing when the broker kept no session. When it says
 *   it kept one, the subscription is sent again anyway: Mosquitto 2.0.11 restores a persistent
 *   session from its database after a restart without its shared subscriptions (CONNACK session
 *   present, then nothing delivered), and mqtt.js would not re-send a filter it believes held.
 *   SUBSCRIBE to a filter the session has replaces it (MQTT 5 §3.8.4), so on a broker that did
 *   restore it nothing doubles.
 */
import { connect, type IClientOptions, type IConnackPacket, type ISubscriptionMap, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { topics } from '@pcapmesh/shared/wire';
import type { BrokerStatus, BrokerTransport, PublishOptions, SensorMessageHandler } from './transport.js';

export interface ExternalBrokerOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Shared-subscription group name. */
  sharedGroup: string;
  /** MQTT client id; default a unique `pcapmesh-collector-…`. */
  clientId?: string;
  log: Logger;
  /** Connection timeout in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** MQTT 5 session expiry (s) of a persistent session; 0 or absent: clean sessions. Needs a stable `clientId`. */
  sessionExpirySeconds?: number;
}

export interface ExternalBroker extends BrokerTransport {
  readonly mode: 'external';
  /** Always 5: a broker without MQTT 5 is refused. */
  readonly protocolVersion: 5;
  /** The subscription actually used for sensor messages. */
  readonly subscription: string;
}

/** The broker cannot carry the collector's ingest (no MQTT 5 shared subscriptions); the message says what to use. */
export class ExternalBrokerUnsuitableError extends Error {
  override readonly name = 'ExternalBrokerUnsuitableError';
}

const NEEDS_SHARED =
  'the collector consumes through an MQTT 5 shared subscription ($share/{mqtt.sharedGroup}/…), so that several collectors split ingest — ' +
  'use a broker that has them (Mosquitto 2, EMQX, HiveMQ, VerneMQ; in mosquitto.conf keep `protocol mqtt` on the listener), or the embedded broker (unset mqtt.url)';

/** CONNACK codes meaning "this broker does not speak the requested protocol version". */
const UNSUPPORTED_VERSION = new Set([1, 0x84]);

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

type EarlyMessage = { packet: Parameters<MqttClient['handleMessage']>[0]; callback: Parameters<MqttClient['handleMessage']>[1] };
/** Messages that arrived before consume() (a persistent session's queue follows CONNACK at once), unacknowledged. */
const earlyMessages = new WeakMap<MqttClient, EarlyMessage[]>();

/** Connects once; resolves with the client and its CONNACK, or rejects with the broker's refusal. */
function connectOnce(url: string, options: IClientOptions): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  return new Promise((resolve, reject) => {
    const client = connect(url, options);
    const early: EarlyMessage[] = [];
    earlyMessages.set(client, early);
    // Held, not acknowledged (mqtt.js' default handler would acknowledge and drop them), until consume().
    client.handleMessage = (packet, callback) => void early.push({ packet, callback });
    const cleanup = () => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
    };
    const onConnect = (connack: IConnackPacket) => {
      cleanup();
      resolve({ client, connack });
    };
    const onError = (err: Error & { code?: number }) => {
      cleanup();
      client.end(true);
      reject(err);
    };
    const onClose = () => onError(new Error('connection closed before CONNACK'));
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}

export async function connectExternalBroker(options: ExternalBrokerOptions): Promise<ExternalBroker> {
  const log = options.log.child({ component: 'broker', mode: 'external', url: safeUrl(options.url) });
  const base: IClientOptions = {
    username: options.username,
    password: options.password,
    clientId: options.clientId ?? `pcapmesh-collector-${process.pid}-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 1_000,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    resubscribe: true,
  };

  const protocolVersion = 5;
  let connected: { client: MqttClient; connack: IConnackPacket };
  const expiry = options.sessionExpirySeconds ?? 0;
  const v5: IClientOptions = expiry > 0 ? { ...base, clean: false, properties: { sessionExpiryInterval: expiry } } : base;
  try {
    connected = await connectOnce(options.url, { ...v5, protocolVersion: 5 });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === undefined || !UNSUPPORTED_VERSION.has(code)) {
      throw new Error(`cannot connect to the MQTT broker ${safeUrl(options.url)}`, { cause: err });
    }
    throw new ExternalBrokerUnsuitableError(`the MQTT broker ${safeUrl(options.url)} refused MQTT 5 (CONNACK ${code}): ${NEEDS_SHARED}`, { cause: err });
  }
  const { client, connack } = connected;
  if (connack.properties?.sharedSubscriptionAvailable === false) {
    client.end(true);
    throw new ExternalBrokerUnsuitableError(`the MQTT broker ${safeUrl(options.url)} announces no shared subscriptions: ${NEEDS_SHARED}`);
  }
  const subscription = `$share/${options.sharedGroup}/${topics.filters.allSensors}`;

  client.on('error', (err) => log.warn({ err: err.message }, 'MQTT client error'));
  client.on('offline', () => log.warn('disconnected from the MQTT broker; reconnecting'));
  let consuming = false;
  // mqtt.js' `resubscribe` flag makes it send a filter it believes the session holds (its type,
  // an index signature intersected with the flag, cannot be written as a literal).
  const subscribeAgain = { [subscription]: { qos: 1 }, resubscribe: true } as unknown as ISubscriptionMap;
  client.on('connect', (connack: IConnackPacket) => {
    log.info({ sessionPresent: connack.sessionPresent }, 'reconnected to the MQTT broker');
    if (!consuming || !connack.sessionPresent) return;
    client.subscribeAsync(subscribeAgain).then(
      (granted) => {
        if (granted.some((g) => g.qos === 128 || g.qos > 2)) log.error({ subscription }, 'the MQTT broker refused the subscription again after a reconnect');
      },
      (err: unknown) => log.warn({ err, subscription }, 'subscribing again after a reconnect failed; the next reconnect tries again'),
    );
  });
  log.info({ protocolVersion, subscription }, 'connected to the external MQTT broker');

  let closed = false;
  // A persistent session's queued messages arrive right after CONNACK, before consume() is called:
  // held unacknowledged until it is (mqtt.js' default handler would acknowledge and drop them).
  const early = earlyMessages.get(client) ?? [];
  return {
    mode: 'external',
    protocolVersion,
    subscription,
    async consume(handler: SensorMessageHandler) {
      if (consuming) throw new Error('external broker: consume() called twice');
      consuming = true;
      client.handleMessage = (packet, callback) => {
        const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
        const attempt = (delayMs: number): void => {
          handler(packet.topic, payload).then(
            (result) => {
              if (result !== 'retry') {
                callback();
                return;
              }
              if (closed) return; // never acknowledged: the broker keeps it for the session
              log.warn({ topic: packet.topic, retryInMs: delayMs }, 'message not stored; acknowledgement withheld, retrying');
              setTimeout(() => attempt(Math.min(delayMs * 2, 30_000)), delayMs).unref();
            },
            (err: unknown) => {
              log.error({ err, topic: packet.topic }, 'sensor message handler failed');
              callback();
            },
          );
        };
        attempt(1_000);
      };
      for (const { packet, callback } of early.splice(0)) client.handleMessage(packet, callback);
      const granted = await client.subscribeAsync(subscription, { qos: 1 });
      const refused = granted.filter((g) => g.qos === 128 || g.qos > 2);
      if (refused.length > 0) throw new Error(`the MQTT broker refused the subscription ${subscription}`);
    },
    async publish(topic: string, payload: Buffer, { qos, retain = false }: PublishOptions) {
      try {
        await client.publishAsync(topic, payload, { qos, retain });
      } catch (err) {
        throw new Error(`publish to ${topic} failed`, { cause: err });
      }
    },
    status(): BrokerStatus {
      return { mode: 'external', clients: client.connected ? 1 : 0, ok: !closed && client.connected };
    },
    async close() {
      if (closed) return;
      closed = true;
      // A stop on purpose ends the persistent session too (MQTT 5 DISCONNECT with session expiry 0):
      // the group's messages go to the other collectors at once instead of queueing for this one.
      await (protocolVersion === 5 && expiry > 0 ? client.endAsync({ properties: { sessionExpiryInterval: 0 } }) : client.endAsync());
      log.info('disconnected from the external MQTT broker');
    },
  };
}
