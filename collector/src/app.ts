/**
 * Wires the collector together: database (+ migrations and partition maintenance, at start and
 * hourly), the cluster check (data directory lock, shared results directory: cluster.service.ts),
 * cache (Redis or memory), domain services, API token, MQTT broker (embedded aedes or external
 * client), ingest, `events/` publisher, live feed (through the cache's pub/sub), HTTP API, the jobs
 * tick and the periodic work (periodic-work.ts: heartbeat sweep, expiry, partitions, learning).
 *
 * Contract:
 * - `start()` brings everything up in dependency order; if a step fails, what was already started
 *   is stopped again and the error (naming the step) is thrown.
 * - `stop()` closes in reverse order: timers (waiting for a run in progress), HTTP, live feed, events
 *   publisher, broker, then waits for ingest to finish what it received, then cache and database. No timers, sockets or file locks are left. Idempotent.
 * - Ports configured as 0 are ephemeral; `httpUrl` / `mqttPort` report the real ones after start.
 *
 * @example
 *   const collector = createCollector(loadCollectorConfig({ file }), { log });
 *   await collector.start();
 *   console.log(collector.httpUrl, collector.mqttPort);
 *   await collector.stop();
 */
import type { Logger } from 'pino';
import { startEmbeddedBroker, type BrokerTlsFiles, type EmbeddedBroker } from './broker/embedded.js';
import { publishDomainEvents } from './broker/events-publisher.js';
import { connectExternalBroker, type ExternalBroker } from './broker/external.js';
import { openBrokerAccounts } from './broker/dynsec-setup.js';
import { Ingest } from './broker/ingest.js';
import type { BrokerTransport } from './broker/transport.js';
import { openCache, type CacheStore } from './cache/store.js';
import { publicUrlOf, type CollectorConfig } from './config.js';
import { DomainEvents } from './domain/events.js';
import { IngestStats } from './domain/ingest-stats.js';
import { SensorService } from './domain/sensors/sensors.service.js';
import { SystemService } from './domain/system/system.service.js';
import { MaintenanceService } from './domain/maintenance/maintenance.service.js';
import { SearchService } from './domain/search/search.service.js';
import { AnalyticsService } from './domain/analytics/analytics.service.js';
import { createHttpApp } from './http/app.js';
import { openJobsStack, type JobsStack } from './jobs/stack.js';
import { CredentialVerifier } from './http/credentials.js';
import { openLiveFeed } from './http/live-feed.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { openCollectorMetrics } from './http/metrics-routes.js';
import { readCaFile, readTlsPair, type TlsPair } from './tls-files.js';
import { LdapAuthenticator } from './ldap/authenticator.js';
import { createLogger } from './log.js';
import { recentLogs } from './log-ring.js';
import { auditPartitionedTable } from './storage/audit.repo.js';
import { createAccounts } from './domain/accounts/accounts.js';
import { EnrolmentService, type KickClients } from './domain/fleet/enrolment.service.js';
import { IntegrationsService } from './domain/fleet/integrations.service.js';
import { openDb, type Db } from './storage/db.js';
import { migrate } from './storage/migrate.js';
import { activeSha256Secrets } from './storage/sensors.repo.js';
import { PartitionManager, PartitionRegistry, partitionedTables } from './storage/partitions.js';
import { networkPartitionedTables } from './storage/network-traffic.repo.js';
import { NetworkService } from './domain/network/network.service.js';
import { PacketsService } from './domain/jobs/packets.service.js';
import { taskOwner } from './domain/jobs/task-owner.js';
import type { AuditService } from './domain/accounts/audit.service.js';
import { COLLECTOR_VERSION } from './version.js';
import { every } from '@pcapmesh/shared/util/every';
import { joinCluster } from './domain/maintenance/cluster.service.js';
import { startPeriodicWork } from './periodic-work.js';

/** The jobs scheduler's period (dispatch, timeouts, deadlines; domain/jobs/scheduler.ts). */
const JOBS_TICK_MS = 2_000;

export interface CollectorServices {
  db: Db;
  cache: CacheStore;
  sensors: SensorService;
  events: DomainEvents;
  ingestStats: IngestStats;
  broker: BrokerTransport;
}

export interface Collector {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** http://host:port of the API (after start). */
  readonly httpUrl: string;
  /** Port of the embedded broker's plain listener; null with an external broker or TLS only. */
  readonly mqttPort: number | null;
  /** Port of the embedded broker's TLS listener, when configured. */
  readonly mqttsPort: number | null;
  /** Where a generated API token was written on this start, if one was. */
  readonly apiTokenFile: string | null;
  /** The first admin's password when it was generated on this start (print it once), else null. */
  readonly generatedAdminPassword: string | null;
  /** Available after start. */
  readonly services: CollectorServices;
  /**
   * Re-reads the certificate files of http.tls and mqtt.tls (SIGHUP) and serves new connections
   * with them. A file that is refused keeps the old certificate and is logged naming its key.
   * Resolves to what was reloaded.
   */
  reloadTls(): { http: boolean; mqtt: boolean };
}

export interface CreateCollectorOptions {
  log?: Logger;
}

export function createCollector(config: CollectorConfig, opts: CreateCollectorOptions = {}): Collector {
  const log = opts.log ?? createLogger(config);
  /** Undo steps of what has been started, run last-first by stop(). */
  const closers: { what: string; close: () => Promise<void> | void }[] = [];
  let services: CollectorServices | undefined;
  let httpUrl = '';
  let ports = { mqtt: null as number | null, mqtts: null as number | null };
  let apiTokenFile: string | null = null;
  let generatedAdminPassword: string | null = null;
  let stopping: Promise<void> | undefined;
  let httpServer: HttpServer | undefined;
  let embeddedBroker: EmbeddedBroker | undefined;

  async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new Error(`collector start failed at "${what}": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  async function startAll(): Promise<void> {
    // Certificate files first: a bad one is refused (ConfigError naming the key) before anything opens.
    const httpTls = config.http.tls.certFile === undefined ? undefined : logPair(readTlsPair(config.http.tls, 'http.tls'), 'http.tls');
    const mqttTls =
      config.mqtt.mode === 'external' || config.mqtt.tls.certFile === undefined ? undefined : brokerTlsFiles(config, (p) => logPair(p, 'mqtt.tls'));
    const db = await step('open database', () =>
      openDb({
        url: config.database.url,
        dataDir: config.dataDir,
        onError: (err) => log.warn({ component: 'postgres', err: err.message }, 'idle PostgreSQL connection failed; the pool replaces it'),
      }),
    );
    closers.push({ what: 'database', close: () => db.close() });
    log.info({ database: db.description, kind: db.kind }, 'database open');
    const migrated = await step('migrate database', () => migrate(db));
    if (migrated.applied.length > 0) log.info({ applied: migrated.applied.map((m) => m.file) }, 'migrations applied');
    // The network view's per-location tables appear as locations report traffic: listed at every run.
    // Every time-series table, with its retention; the network view's per-location tables appear as
    // locations report traffic, so their source is asked at every run.
    const partitionRegistry = new PartitionRegistry()
      .add(...partitionedTables(config.retention), auditPartitionedTable(config.retention.auditDays))
      .addSource('network traffic', (q) => networkPartitionedTables(q, config.retention.trafficDays));
    const partitions = new PartitionManager({
      db,
      log: log.child({ component: 'partitions' }),
      ahead: config.retention.partitionsAhead,
      tables: partitionRegistry,
    });
    await step('create partitions', () => partitions.run());
    // The data directory locked, the results directory writable and the one the other collectors on this database use.
    const member = await step('join the cluster', () => joinCluster({ db, dataDir: config.dataDir, resultsDir: config.results.directory, log }));
    closers.push({ what: 'data directory lock', close: () => member.release() });

    const cache = await step('open cache', () => openCache({ url: config.redis.url }));
    closers.push({ what: 'cache', close: () => cache.close() });
    log.info({ kind: cache.kind }, 'cache open');

    const events = new DomainEvents((err, name) => log.error({ err, event: name }, 'domain event listener failed'));
    const ingestStats = new IngestStats();
    // The network service audits admins' changes through the accounts stack, built below.
    const lateAudit: { audit?: AuditService } = {};
    const network = new NetworkService({
      db,
      cache,
      events,
      audit: { record: (entry) => (lateAudit.audit ?? fail('audit not open yet')).record(entry) },
      log: log.child({ component: 'network' }),
      settings: config.network,
      partitions: { retentionDays: config.retention.trafficDays, ahead: config.retention.partitionsAhead },
    });
    const sensors = new SensorService({
      db,
      events,
      log: log.child({ component: 'sensors' }),
      heartbeatTimeoutSeconds: config.ingest.heartbeatTimeoutSeconds,
      network,
    });
    // Every sensor's view in memory before MQTT and HTTP start (GET /sensors answers from it).
    await step('load the fleet view', () => sensors.loadFleetView());

    const ldapConfig = config.auth.ldap;
    const accounts = await step('accounts', () =>
      createAccounts({
        db,
        cache,
        log,
        config: { ...config.auth, ldapRecheckMinutes: ldapConfig?.recheckMinutes },
        ...(ldapConfig ? { ldap: (users) => new LdapAuthenticator(ldapConfig, users, log.child({ component: 'ldap' })) } : {}),
      }),
    );
    lateAudit.audit = accounts.audit;
    const firstAdmin = await step('first admin', () => accounts.users.ensureFirstAdmin(config.auth.adminPassword));
    if (firstAdmin.created) log.info({ user: 'admin', generated: firstAdmin.generatedPassword !== null }, 'first admin user created');
    generatedAdminPassword = firstAdmin.generatedPassword;
    ({ writtenTo: apiTokenFile } = await step('API token', () =>
      accounts.apiTokens.ensureStartToken({ configured: config.http.apiToken, dataDir: config.dataDir }),
    ));
    // The jobs stack needs the broker (commands), which needs ingest: ingest reaches it once it exists (before consume).
    const late: { jobs?: JobsStack } = {};
    const jobsTarget = () => {
      if (!late.jobs) throw new Error('jobs stack not open yet');
      return late.jobs.jobs.service;
    };
    const ingest = new Ingest(
      sensors,
      ingestStats,
      log.child({ component: 'ingest' }),
      {
        ingestTaskStatus: (sensor, taskId, msg) => jobsTarget().ingestTaskStatus(sensor, taskId, msg),
        ingestEstimate: (sensor, msg) => jobsTarget().ingestEstimate(sensor, msg),
        // Every birth re-sends the sensor's unfinished tasks (also one that changes no status); ignored before resume.
        sensorBorn: (sensor) => (late.jobs ? late.jobs.jobs.scheduler.sensorOnline(sensor) : Promise.resolve(0)),
      },
      // An external broker keeps taking a revoked sensor's publishes: ingest refuses them (the embedded broker refuses its login).
      config.mqtt.mode === 'external' ? (sensor) => sensors.standing(sensor) : undefined,
    );
    // Closers run last-first: the broker stops delivering, then ingest finishes what it has.
    closers.push({ what: 'ingest', close: () => ingest.drain() });
    // Accounts at an external Mosquitto (dynamic security) and the open-file check, before the broker connection subscribes.
    const brokerAccounts = await step('broker accounts', () => openBrokerAccounts(config, db, log, member.mqttClientId));
    closers.push({ what: 'broker accounts', close: () => brokerAccounts.close() });
    const integrations = new IntegrationsService({ db, audit: accounts.audit, kick: (match) => kick(match), accounts: brokerAccounts.accounts });
    const broker = await step('MQTT broker', () =>
      openBroker(
        config,
        mqttTls,
        sensors,
        ingestStats,
        log,
        integrations,
        (taskId) => taskOwner(db, taskId),
        () => activeSha256Secrets(db),
        member.mqttClientId,
      ),
    );
    // An external broker drops clients itself (dynamic security) or not at all: ingest refuses a revoked sensor's messages (sensors.standing).
    const kick: KickClients = (match) => (broker.mode === 'embedded' ? broker.disconnect(match) : 0);
    const enrolment = new EnrolmentService({
      db,
      sensors,
      audit: accounts.audit,
      kick,
      accounts: brokerAccounts.accounts,
      log: log.child({ component: 'enrolment' }),
      throttle: accounts.throttle,
    });
    closers.push({ what: 'MQTT broker', close: () => broker.close() });
    if (broker.mode === 'embedded') {
      ports = broker.ports;
      embeddedBroker = broker;
    }

    // The port is known once the HTTP server listens (http.port 0 picks one); upload URLs are made after that.
    const bound: { port?: number } = {};
    const stack = (late.jobs = await step('jobs', () =>
      openJobsStack({
        db,
        sensors,
        subnets: network,
        events,
        broker,
        log,
        version: COLLECTOR_VERSION,
        config,
        publicUrl: () => publicUrlOf(config, bound.port),
        holder: member.holder,
      }),
    ));
    closers.push({ what: 'jobs', close: () => stack.close() });

    await step('consume sensor messages', () => broker.consume((topic, payload) => ingest.handle(topic, payload)));
    closers.push({ what: 'events publisher', close: publishDomainEvents(events, broker, log.child({ component: 'events' })) });

    const live = await step('live feed', () => openLiveFeed(events, cache, log.child({ component: 'live-feed' })));
    closers.push({ what: 'live feed', close: () => live.close() });
    const metrics = await step('metrics', () => openCollectorMetrics(config, { ingestStats, sensors, broker, db, events, log, throttle: accounts.throttle }));
    closers.push({ what: 'metrics', close: () => metrics.close() });
    const { app } = createHttpApp({
      metrics,
      log,
      version: COLLECTOR_VERSION,
      sensors,
      ingestStats,
      db,
      broker,
      tokens: new CredentialVerifier(accounts.access, accounts.apiTokens, accounts.users),
      accounts: { ...accounts, refreshTokenDays: config.auth.refreshTokenDays, trustedProxies: config.http.trustedProxies },
      fleet: { enrolment, integrations },
      live,
      webRoot: config.http.webRoot,
      system: {
        service: new SystemService({ db, dataDir: config.database.url === undefined ? config.dataDir : null }),
        startedAt: new Date(),
        logs: recentLogs,
      },
      jobs: stack.jobs.service,
      network,
      maintenance: new MaintenanceService({ db }),
      analytics: new AnalyticsService({ db, sensors, settings: config.analytics }),
      search: new SearchService({ db, subnets: () => network.subnets(), settings: { maxWindowDays: config.network.maxWindowDays, defaultWindowDays: 7 } }),
      manifestKeys: stack.results,
      packets: new PacketsService({ jobs: stack.jobs.service, results: stack.results, log }),
      uploads: { tokens: stack.tokens, service: stack.uploads },
    });
    const server = await step('HTTP server', () => startHttpServer(app, { host: config.http.host, port: config.http.port, log, tls: httpTls }));
    httpServer = server;
    closers.push({ what: 'HTTP server', close: () => server.close() });
    httpUrl = server.url;
    bound.port = Number(new URL(server.url).port);

    // Jobs: resume what a previous run left (dispatch needs the upload URL, so after the server), then tick.
    await step('resume uploads', () => stack.uploads.recover());
    await step('resume jobs', () => stack.jobs.scheduler.resume());
    const stopJobs = every(
      'jobs tick',
      JOBS_TICK_MS,
      () => stack.jobs.scheduler.tick(),
      (err) => log.error({ err }, 'jobs tick failed'),
      JOBS_TICK_MS,
    );
    closers.push({ what: 'jobs scheduler', close: stopJobs });
    // Results expiry, heartbeat sweep, partitions, subnet learning: each once per interval across the collectors on this database.
    const stopPeriodic = startPeriodicWork({
      db,
      holder: member.holder,
      config,
      log,
      results: stack.results,
      audit: accounts.audit,
      sensors,
      partitions,
      network,
    });
    closers.push({ what: 'periodic work', close: stopPeriodic });

    services = { db, cache, sensors, events, ingestStats, broker };
  }

  function logPair(pair: TlsPair, key: string): TlsPair {
    log.info({ component: 'tls', key, fingerprint: pair.fingerprint, validTo: pair.validTo }, 'certificate loaded');
    return pair;
  }

  /** One listener's reload; false (logged) when its files are refused. */
  function reloadOne(key: string, apply: () => void): boolean {
    try {
      apply();
      return true;
    } catch (err) {
      log.error(
        { component: 'tls', key, err: err instanceof Error ? err.message : String(err) },
        'certificate reload refused; the previous certificate stays in use',
      );
      return false;
    }
  }

  async function closeAll(): Promise<void> {
    while (closers.length > 0) {
      const { what, close } = closers.pop()!;
      try {
        await close();
      } catch (err) {
        log.error({ err, what }, 'error while stopping');
      }
    }
  }

  return {
    async start() {
      if (services) throw new Error('collector already started');
      try {
        await startAll();
      } catch (err) {
        await closeAll();
        throw err;
      }
      log.info({ http: httpUrl, mqtt: ports.mqtt, mqtts: ports.mqtts, broker: config.mqtt.mode }, 'collector ready');
    },
    stop() {
      stopping ??= closeAll().then(() => log.info('collector stopped'));
      return stopping;
    },
    get httpUrl() {
      return httpUrl;
    },
    get mqttPort() {
      return ports.mqtt;
    },
    get mqttsPort() {
      return ports.mqtts;
    },
    get apiTokenFile() {
      return apiTokenFile;
    },
    get generatedAdminPassword() {
      return generatedAdminPassword;
    },
    get services() {
      if (!services) throw new Error('collector not started');
      return services;
    },
    reloadTls() {
      const { http, mqtt } = config;
      const server = httpServer;
      const broker = embeddedBroker;
      return {
        http:
          server !== undefined &&
          http.tls.certFile !== undefined &&
          reloadOne('http.tls', () => server.setTls(logPair(readTlsPair(http.tls, 'http.tls'), 'http.tls'))),
        mqtt:
          broker !== undefined &&
          mqtt.tls.certFile !== undefined &&
          reloadOne('mqtt.tls', () => broker.setTls(brokerTlsFiles(config, (pair) => logPair(pair, 'mqtt.tls')))),
      };
    },
  };
}

/** Certificate, key and client CA of the embedded broker's TLS listener, read and checked. */
function brokerTlsFiles(config: CollectorConfig, seen: (pair: TlsPair) => void): BrokerTlsFiles {
  const pair = readTlsPair(config.mqtt.tls, 'mqtt.tls');
  seen(pair);
  const caFile = config.mqtt.tls.clientCaFile;
  return { cert: pair.cert, key: pair.key, ...(caFile !== undefined ? { ca: readCaFile(caFile, 'mqtt.tls.clientCaFile') } : {}) };
}

async function openBroker(
  config: CollectorConfig,
  tlsFiles: BrokerTlsFiles | undefined,
  sensors: SensorService,
  stats: IngestStats,
  log: Logger,
  integrations: IntegrationsService,
  taskOwner: (taskId: string) => Promise<string | null>,
  knownSecrets: () => Promise<{ name: string; secretHash: string }[]>,
  clientId: string,
): Promise<EmbeddedBroker | ExternalBroker> {
  const { mqtt } = config;
  if (mqtt.mode === 'external' && mqtt.url !== undefined) {
    const { url, username, password, sharedGroup, sessionExpirySeconds } = mqtt;
    return connectExternalBroker({ url, username, password, sharedGroup, clientId, sessionExpirySeconds, log });
  }
  const tls = tlsFiles ? { port: mqtt.tls.port, ...tlsFiles } : undefined;
  return startEmbeddedBroker({
    host: mqtt.host,
    port: mqtt.plainEnabled ? mqtt.port : null,
    plainHost: mqtt.plainHost,
    tls,
    log,
    maxConnectionsPerAddress: mqtt.maxConnectionsPerAddress,
    connectRate: mqtt.connectRate,
    knownSecrets,
    taskOwner,
    policy: {
      verifySecret: (name, secret) => sensors.verifySecret(name, secret),
      verifyIntegration: (name, secret) => integrations.verify(name, secret),
      onRefused: (kind) => {
        if (kind === 'publish') stats.rejected('not-permitted');
      },
    },
  });
}

function fail(message: string): never {
  throw new Error(message);
}
