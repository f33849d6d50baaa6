/**
 * The embedded MQTT broker: aedes (MQTT 3.1.1) in the collector process, listening on a plain TCP
 * port and, when a certificate is configured, a TLS port. Sensors are held to `policy.ts`; the
 * collector consumes their messages in-process, which is several times faster than a loopback MQTT
 * client (STACK.md pitfall 4).
 *
 * Consumption happens in aedes' authorizePublish hook, after the policy allowed the publish: aedes
 * writes a QoS 1 PUBACK before it hands a message to subscribers, so only there can the collector
 * store a message before the sensor is told it arrived. A sensor message that arrives before
 * `consume()` waits in the hook until the consumer is set (never acknowledged unstored). A message ingest could not store (handler
 * answers 'retry': the database failed) fails that hook, and aedes closes the connection without
 * the PUBACK: the agent keeps the message in its spool and publishes it again after reconnecting.
 * A sensor's will goes through the same hook (aedes authorizes wills as well).
 *
 * Limits (limits.ts, docs/mqtt.md "Limits"): every connection is admitted only while its address
 * has fewer than `maxConnectionsPerAddress` open; its packets are size-checked from their fixed
 * header before aedes buffers them; retain is refused outside state and pcap (policy.ts); and a task
 * status (`sensors/{name}/tasks/{task}`) is delivered only when `taskOwner` says the task is the
 * sensor's — another sensor's task closes the connection. A task that does not exist (its job was
 * deleted) is not refused — the agent would re-send it on every reconnect, holding up its spool —
 * but handed to ingest, which counts it by reason like any message it cannot apply. Owners are
 * cached (an owner never changes; "no such task" for 5 s). CONNECTs are admitted at `connectRate`
 * a second (policy.ts; over it CONNACK 3 at once) and a secret that verified recently is accepted
 * from a cache that `disconnect` (revoke, rotate) clears for the sensors it disconnects. Each
 * refusal is counted in status().limits.
 *
 * Client certificates (mqtt.tls.clientCaFile): with `tls.ca` the TLS listener asks every client for
 * a certificate and completes the handshake only with one signed by that CA; at CONNECT the
 * certificate's CN must equal the MQTT username (the sensor name, or `integration:<name>`), else
 * the connection is refused (CONNACK 5, not authorized) before the secret is checked — so one
 * sensor's certificate never logs in as another. The secret is still required. `setTls()` swaps
 * certificate, key and CA for new connections (SIGHUP); the plain listener is unaffected.
 *
 * Retained messages (births, availability) live in aedes' in-memory persistence: they survive
 * sensor reconnects, not a collector restart — agents re-publish them on every connect.
 *
 * @example
 *   const broker = await startEmbeddedBroker({ host: '0.0.0.0', port: 1883, policy: { verifySecret, log }, log });
 *   await broker.consume((topic, payload) => ingest.handle(topic, payload));
 *   broker.ports.mqtt; // the real port (0 in config = ephemeral)
 */
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket, type Server as TlsServer, type TlsOptions } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { ConfigError } from '@pcapmesh/shared/util/config';
import { parseTopic, topics } from '@pcapmesh/shared/wire';
import { Lru } from '@pcapmesh/shared/util/lru';
import { ConnectAttempts, ConnectGate } from './connect-attempts.js';
import { SecretCache } from './secret-cache.js';
import { ConnectionsPerAddress, newLimitCounters, watchPacketSizes } from './limits.js';
import { sensorPolicy, type SensorPolicyOptions } from './policy.js';
import type { BrokerStatus, BrokerTransport, PublishOptions, SensorMessageHandler } from './transport.js';

/** Topics consumed by the collector: `pcapmesh/v1/sensors/…` (the filter without its `#`). */
const SENSORS_PREFIX = topics.filters.allSensors.slice(0, -1);

export interface EmbeddedBrokerOptions {
  host: string;
  /** Plain MQTT port; 0 = ephemeral; null = no plain listener (TLS only). */
  port: number | null;
  /** Address of the plain listener when it differs from `host` (the TLS listener's). */
  plainHost?: string | undefined;
  tls?: ({ port: number } & BrokerTlsFiles) | undefined;
  policy: Omit<SensorPolicyOptions, 'log' | 'counters'>;
  log: Logger;
  /** Open connections one source address may have (default 100). */
  maxConnectionsPerAddress?: number;
  /** CONNECTs taken on per second; beyond it CONNACK 3 (default 200, bucket of the same size). */
  connectRate?: number;
  /**
   * Stored secret hashes of the active sensors, read once at start into the secret cache, so a
   * fleet connecting at once needs no database read per CONNECT. A failure is logged and ignored.
   */
  knownSecrets?: () => Promise<readonly { name: string; secretHash: string }[]>;
  /**
   * The sensor a task was given to, null when no such task exists (the jobs domain's
   * JobsService.taskOwner). Absent: task statuses are not checked here (ingest still checks them).
   */
  taskOwner?: (taskId: string) => Promise<string | null>;
}

/** Certificate, key and (for client certificates) the CA of the TLS listener. */
export interface BrokerTlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
  /** CA whose signature a client certificate must carry; absent: no client certificate is asked for. */
  ca?: Buffer | undefined;
}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'needs privileges this process lacks (ports below 1024)',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

/** MQTT 3.1.1 CONNACK 5: not authorized. */
const NOT_AUTHORIZED = 5;

function tlsOptions(files: BrokerTlsFiles): TlsOptions {
  return { cert: files.cert, key: files.key, ...(files.ca ? { ca: files.ca, requestCert: true, rejectUnauthorized: true } : {}) };
}

/** How long "no such task" is believed (a task is created before it is sent, so this is only a flood guard). */
const UNKNOWN_TASK_TTL_MS = 5_000;
const TASK_OWNER_CACHE = 10_000;
/** CONNECTs per second the broker takes on by default (mqtt.connectRate). */
export const DEFAULT_CONNECT_RATE = 200;

export interface EmbeddedBroker extends BrokerTransport {
  readonly mode: 'embedded';
  /** Closes the connections of the clients whose id matches (a revoked sensor); returns how many. */
  disconnect(match: (clientId: string) => boolean): number;
  /** The ports actually bound (useful when configured as 0). */
  readonly ports: { mqtt: number | null; mqtts: number | null };
  /** New certificate, key and CA for connections opened from now on; throws without a TLS listener. */
  setTls(files: BrokerTlsFiles): void;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = options.log.child({ component: 'broker', mode: 'embedded' });
  const counters = newLimitCounters();
  const attempts = options.policy.attempts ?? new ConnectAttempts();
  const gate = options.policy.gate ?? new ConnectGate({ ratePerSecond: options.connectRate ?? DEFAULT_CONNECT_RATE });
  const secrets = options.policy.secrets ?? new SecretCache();
  const policy = sensorPolicy({ ...options.policy, attempts, counters, log, gate, secrets });
  if (options.knownSecrets) {
    try {
      log.info({ sensors: secrets.preload(await options.knownSecrets()) }, 'sensor secrets cached for CONNECT');
    } catch (err) {
      log.warn({ err }, 'sensor secrets not cached; each CONNECT reads the database');
    }
  }
  const perAddress = new ConnectionsPerAddress(options.maxConnectionsPerAddress ?? 100);
  const owners = new Lru<string, string | null>({ maxEntries: TASK_OWNER_CACHE });
  const taskOwner = async (taskId: string): Promise<string | null> => {
    const cached = owners.get(taskId);
    if (cached !== undefined) return cached;
    const owner = await options.taskOwner!(taskId);
    owners.set(taskId, owner, owner === null ? UNKNOWN_TASK_TTL_MS : undefined);
    return owner;
  };
  /** 'deliver', or an Error refusing the publish. */
  const checkTask = async (sensor: string, topic: string): Promise<'deliver' | Error> => {
    const parsed = options.taskOwner === undefined ? null : parseTopic(topic);
    if (parsed?.kind !== 'task-status') return 'deliver';
    const owner = await taskOwner(parsed.taskId);
    if (owner === sensor || owner === null) return 'deliver';
    counters.task += 1;
    log.warn({ sensor, task: parsed.taskId }, 'broker refused publish: status of another sensor’s task');
    options.policy.onRefused?.('publish', sensor, topic);
    return new Error(`sensor ${sensor} does not hold task ${parsed.taskId}`);
  };
  let handler: SensorMessageHandler | null = null;
  // Sensor messages that arrive before consume() (the listener opens a few start steps earlier)
  // wait for it: acknowledged without a handler, they were lost (found by the 500-sensor restart test).
  let handlerSet!: () => void;
  const handlerReady = new Promise<void>((resolve) => (handlerSet = resolve));
  const authorizePublish: typeof policy.authorizePublish = (client, packet, done) => {
    policy.authorizePublish(client, packet, (refused) => {
      if (refused || client === null || !packet.topic.startsWith(SENSORS_PREFIX)) {
        done(refused);
        return;
      }
      (handler === null ? handlerReady.then(() => checkTask(client.id, packet.topic)) : checkTask(client.id, packet.topic)).then(
        (verdict) => {
          if (verdict === 'deliver') deliver(client, packet, done);
          else done(verdict);
        },
        (err: unknown) => {
          log.error({ err, sensor: client.id, topic: packet.topic }, 'task owner lookup failed; sensor disconnected, it sends the message again');
          done(new Error('task owner lookup failed'));
        },
      );
    });
  };
  const deliver = (client: Client, packet: Parameters<typeof policy.authorizePublish>[1], done: (err: Error | null) => void): void => {
    handler!(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)).then(
      (result) => {
        if (result !== 'retry') {
          done(null);
          return;
        }
        log.warn({ sensor: client.id, topic: packet.topic }, 'message not stored: sensor disconnected without acknowledgement, it sends the message again');
        done(new Error(`message on ${packet.topic} not stored`));
      },
      (err: unknown) => {
        log.error({ err, topic: packet.topic }, 'sensor message handler failed');
        done(null);
      },
    );
  };
  const clientCerts = options.tls?.ca !== undefined;
  /** With client certificates: the certificate's CN must be the username, checked before the secret. */
  const authenticate: typeof policy.authenticate = (client, username, password, done) => {
    const conn: unknown = client.conn;
    if (clientCerts && conn instanceof TLSSocket) {
      const cn = conn.getPeerCertificate().subject?.CN;
      if (typeof cn !== 'string' || cn !== username) {
        log.warn({ sensor: username, certificateCn: cn ?? null, address: conn.remoteAddress }, 'MQTT login refused: client certificate CN is not the username');
        options.policy.onRefused?.('authenticate', username ?? '', 'client certificate CN');
        done(Object.assign(new Error('client certificate does not name this client'), { returnCode: NOT_AUTHORIZED }) as AuthenticateError, false);
        return;
      }
    }
    policy.authenticate(client, username, password, done);
  };
  const aedes = await Aedes.createBroker({ ...policy, authenticate, authorizePublish });
  aedes.on('clientError', (client, err) => log.debug({ sensor: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) => log.debug({ sensor: client.id, err: err.message }, 'connection error'));
  aedes.on('clientReady', (client) => log.info({ sensor: client.id }, 'sensor connected'));
  aedes.on('clientDisconnect', (client) => log.info({ sensor: client.id }, 'sensor disconnected'));

  /** Admits a connection within the per-address cap and watches its packet sizes, then hands it to aedes. */
  const handle = (socket: Socket): void => {
    if (!perAddress.admit(socket)) {
      counters.connections += 1;
      log.warn({ address: socket.remoteAddress }, 'MQTT connection refused: too many open connections from this address');
      socket.destroy();
      return;
    }
    watchPacketSizes(socket, (detail) => {
      counters.oversized += 1;
      log.warn({ address: socket.remoteAddress, detail }, 'MQTT connection closed: packet over its size limit');
    });
    aedes.handle(socket);
  };

  const servers: Server[] = [];
  let secureServer: TlsServer | undefined;
  let listening = { key: 'mqtt.port', address: '' };
  const ports: { mqtt: number | null; mqtts: number | null } = { mqtt: null, mqtts: null };
  try {
    if (options.port !== null) {
      const plain = createTcpServer(handle);
      servers.push(plain);
      listening = { key: 'mqtt.port', address: `${options.plainHost ?? options.host}:${options.port}` };
      ports.mqtt = await listen(plain, options.port, options.plainHost ?? options.host);
    }
    if (options.tls) {
      const secure = createTlsServer(tlsOptions(options.tls), handle);
      secure.on('tlsClientError', (err, socket) => log.debug({ address: socket.remoteAddress, err: err.message }, 'MQTTS handshake failed'));
      servers.push(secure);
      secureServer = secure;
      listening = { key: 'mqtt.tls.port', address: `${options.host}:${options.tls.port}` };
      ports.mqtts = await listen(secure, options.tls.port, options.host);
    }
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    // A port in use, not permitted or an address not on this machine is a configuration problem naming its key.
    const reason = LISTEN_REASONS[(err as NodeJS.ErrnoException).code ?? ''];
    if (reason) throw new ConfigError([`${listening.key}: ${listening.address} ${reason} (${(err as NodeJS.ErrnoException).code})`], 'MQTT listener');
    throw new Error(`cannot listen for MQTT on ${listening.address}`, { cause: err });
  }
  log.info({ ports }, 'embedded MQTT broker listening');

  let closed = false;
  return {
    mode: 'embedded',
    ports,
    async consume(consumer: SensorMessageHandler) {
      if (handler !== null) throw new Error('embedded broker: consume() called twice');
      handler = consumer;
      handlerSet();
      return Promise.resolve();
    },
    publish(topic: string, payload: Buffer, { qos, retain = false }: PublishOptions) {
      return new Promise<void>((resolve, reject) =>
        aedes.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) =>
          err ? reject(new Error(`publish to ${topic} failed`, { cause: err })) : resolve(),
        ),
      );
    },
    setTls(files: BrokerTlsFiles) {
      if (!secureServer) throw new Error('the embedded broker has no TLS listener (mqtt.tls is not set)');
      if ((files.ca !== undefined) !== clientCerts) throw new Error('mqtt.tls.clientCaFile cannot be set or unset by a reload: restart the collector');
      secureServer.setSecureContext(tlsOptions(files));
    },
    disconnect(match: (clientId: string) => boolean): number {
      // A revoked or rotated secret must go back to the database check at the next CONNECT.
      secrets.forget(match);
      let n = 0;
      // aedes keeps connected clients by id in `clients` (not in its type declarations).
      const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
      for (const [id, client] of Object.entries(clients)) {
        if (!match(id)) continue;
        client.close();
        n += 1;
      }
      if (n > 0) log.info({ clients: n }, 'disconnected clients on request');
      return n;
    },
    status(): BrokerStatus {
      return {
        mode: 'embedded',
        clients: aedes.connectedClients,
        ok: !closed && !aedes.closed,
        limits: { ...counters, logins: attempts.blockedCount, busy: gate.refused },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      const serversClosed = Promise.all(servers.map(closeServer));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await serversClosed;
      log.info('embedded MQTT broker stopped');
    },
  };
}
