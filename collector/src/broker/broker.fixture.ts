/**
 * Test fixture: the embedded broker on an ephemeral port over real parts (in-memory PGlite with
 * migrations, the real SensorService, ingest and its counters), plus mqtt.js clients.
 */
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { DomainEvents } from '../domain/events.js';
import { IngestStats } from '../domain/ingest-stats.js';
import { SensorService } from '../domain/sensors/sensors.service.js';
import { openDb, type Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { activeSha256Secrets } from '../storage/sensors.repo.js';
import type { ConnectAttempts, ConnectGate } from './connect-attempts.js';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded.js';
import { Ingest } from './ingest.js';

export interface TestBroker {
  db: Db;
  sensors: SensorService;
  events: DomainEvents;
  stats: IngestStats;
  ingest: Ingest;
  broker: EmbeddedBroker;
  url: string;
  /** Registered sensors and their secrets. */
  secrets: Record<string, string>;
  /** Connects an MQTT 3.1.1 client (no reconnects); closed by close(). */
  client(opts: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

export async function createTestBroker(
  sensorNames: string[],
  opts: {
    tls?: { cert: string | Buffer; key: string | Buffer };
    attempts?: ConnectAttempts;
    gate?: ConnectGate;
    /** Fill the broker's secret cache from the sensors table at start (as the collector does). */
    preloadSecrets?: boolean;
    /** Extra broker options (limits, task owners). */
    broker?: Pick<EmbeddedBrokerOptions, 'maxConnectionsPerAddress' | 'taskOwner'>;
  } = {},
): Promise<TestBroker> {
  const log = pino({ level: 'silent' });
  const db = await openDb({ url: 'memory://' });
  await migrate(db);
  const events = new DomainEvents();
  const stats = new IngestStats();
  const sensors = new SensorService({ db, events, log, heartbeatTimeoutSeconds: 30 });
  const secrets: Record<string, string> = {};
  for (const name of sensorNames) secrets[name] = (await sensors.register({ name, location: 'lab' })).secret;
  const ingest = new Ingest(sensors, stats, log);
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    tls: opts.tls ? { port: 0, ...opts.tls } : undefined,
    log,
    ...opts.broker,
    ...(opts.preloadSecrets ? { knownSecrets: () => activeSha256Secrets(db) } : {}),
    policy: {
      verifySecret: (name, secret) => sensors.verifySecret(name, secret),
      ...(opts.attempts ? { attempts: opts.attempts } : {}),
      ...(opts.gate ? { gate: opts.gate } : {}),
      onRefused: (kind) => {
        if (kind === 'publish') stats.rejected('not-permitted');
      },
    },
  });
  await broker.consume((topic, payload) => ingest.handle(topic, payload));
  const url = `mqtt://127.0.0.1:${broker.ports.mqtt}`;
  const clients: MqttClient[] = [];
  return {
    db,
    sensors,
    events,
    stats,
    ingest,
    broker,
    url,
    secrets,
    async client(opts) {
      const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...opts }, false);
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true)));
      await broker.close();
      await ingest.drain();
      await db.close();
    },
  };
}
