/**
 * Test fixture: the HTTP app over real parts — an in-memory PGlite with the migrations applied,
 * the real SensorService, the memory cache carrying the live feed, an embedded broker on an
 * ephemeral port, one stored API token, and the accounts stack (users, sessions, audit) with one
 * user per role (password `USER_PASSWORD`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { pino } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import { MemoryCache } from '../cache/memory.js';
import { DomainEvents } from '../domain/events.js';
import { IngestStats } from '../domain/ingest-stats.js';
import { SensorService } from '../domain/sensors/sensors.service.js';
import { SystemService } from '../domain/system/system.service.js';
import { ApiTokensRepo } from '../storage/api-tokens.repo.js';
import { openDb, type Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { createAccounts, type Accounts } from '../domain/accounts/accounts.js';
import type { LoginThrottleLimits } from '../domain/accounts/login-throttle.js';
import { generateApiToken } from '../domain/accounts/api-tokens.service.js';
import { CredentialVerifier } from './credentials.js';
import { API_PREFIX, createHttpApp, type HttpApp } from './app.js';
import { openLiveFeed, type LiveFeedHub } from './live-feed.js';
import { LogRing } from '../log-ring.js';
import type { z } from 'zod';
import { collectorConfig, type collectorConfigSchema } from '../config.js';
import { openJobsStack, type JobsStack } from '../jobs/stack.js';
import { EnrolmentService } from '../domain/fleet/enrolment.service.js';
import { IntegrationsService } from '../domain/fleet/integrations.service.js';
import { NetworkService } from '../domain/network/network.service.js';
import { MaintenanceService } from '../domain/maintenance/maintenance.service.js';
import { SearchService } from '../domain/search/search.service.js';
import { AnalyticsService } from '../domain/analytics/analytics.service.js';
import { PacketsService } from '../domain/jobs/packets.service.js';
import { DEFAULT_NETWORK_SETTINGS } from '../domain/network/network.fixture.js';

/** Password of the fixture's users admin1, analyst1, analyst2 and viewer1. */
export const USER_PASSWORD = 'fixture password';

export interface TestHttp extends HttpApp {
  logs: LogRing;
  token: string;
  accounts: Accounts;
  cache: MemoryCache;
  db: Db;
  sensors: SensorService;
  events: DomainEvents;
  stats: IngestStats;
  broker: EmbeddedBroker;
  live: LiveFeedHub;
  /** The real jobs stack (JobsService, ResultsService, TaskTokens) over the embedded broker; results in `resultsDir`. */
  jobs: JobsStack;
  resultsDir: string;
  /** The network view (fed by `sensors`' traffic ingest). */
  network: NetworkService;
  /** Signs a fixture user in (POST /login with USER_PASSWORD) and returns its access token. */
  accessTokenOf(username: string): Promise<string>;
  close(): Promise<void>;
}

export async function createTestHttp(
  opts: {
    /** http.trustedProxies (X-Forwarded-Proto believed from these peers). */
    trustedProxies?: string[];
    now?: () => Date;
    limits?: Partial<LoginThrottleLimits> & { knownForDays?: number };
    /** Overrides of the jobs.* configuration (quota, limits, ...). */
    jobs?: z.input<typeof collectorConfigSchema>['jobs'];
  } = {},
): Promise<TestHttp> {
  // Lines go to the fixture's own ring (GET /admin/logs), not to the test output.
  const logs = new LogRing(500);
  const log = pino({ level: 'info', hooks: { streamWrite: (line: string) => (logs.push(line), line) } }, { write: () => undefined });
  const token = generateApiToken();
  const db = await openDb({ url: 'memory://' });
  await migrate(db);
  const repo = new ApiTokensRepo(db);
  await repo.put('test', await hash(token));
  const events = new DomainEvents();
  const stats = new IngestStats();
  const cache = new MemoryCache('test:');
  // The network view audits through the accounts stack, made below.
  const lateAudit: { audit?: Accounts['audit'] } = {};
  const network = new NetworkService({
    db,
    cache,
    events,
    audit: { record: (entry) => lateAudit.audit!.record(entry) },
    log,
    settings: DEFAULT_NETWORK_SETTINGS,
    partitions: { retentionDays: 30, ahead: 1 },
    ...(opts.now ? { now: opts.now } : {}),
  });
  const sensors = new SensorService({ db, events, log, heartbeatTimeoutSeconds: 30, network });
  // The broker's policy needs the integrations service, which needs the broker (to kick clients).
  const late: { integrations?: IntegrationsService } = {};
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log,
    policy: {
      verifySecret: (name, secret) => sensors.verifySecret(name, secret),
      verifyIntegration: (name, secret) => late.integrations!.verify(name, secret),
    },
  });
  const live = await openLiveFeed(events, cache, log);
  const accounts = await createAccounts({
    db,
    cache,
    log,
    config: { accessTokenMinutes: 15, refreshTokenDays: 7, maxFailuresPerUser: 5, maxFailuresPerAddress: 50, lockoutSeconds: 900, ...opts.limits },
    ...(opts.now ? { now: opts.now } : {}),
  });
  lateAudit.audit = accounts.audit;
  const kick = (match: (id: string) => boolean) => broker.disconnect(match);
  const integrations = (late.integrations = new IntegrationsService({ db, audit: accounts.audit, kick }));
  const fleet = { enrolment: new EnrolmentService({ db, sensors, audit: accounts.audit, kick, log, throttle: accounts.throttle }), integrations };
  for (const [username, role] of [
    ['admin1', 'admin'],
    ['analyst1', 'analyst'],
    ['analyst2', 'analyst'],
    ['viewer1', 'viewer'],
  ] as const) {
    await accounts.users.create({ username, role, password: USER_PASSWORD });
  }
  const resultsDir = mkdtempSync(join(tmpdir(), 'pcapmesh-http-results-'));
  const jobs = await openJobsStack({
    db,
    sensors,
    events,
    broker,
    log,
    version: '9.9.9',
    config: collectorConfig({ results: { directory: resultsDir }, ...(opts.jobs ? { jobs: opts.jobs } : {}) }),
    publicUrl: () => 'http://127.0.0.1:8080',
    ...(opts.now ? { now: opts.now } : {}),
  });
  const http = createHttpApp({
    log,
    version: '9.9.9',
    sensors,
    ingestStats: stats,
    db,
    broker,
    tokens: new CredentialVerifier(accounts.access, accounts.apiTokens, accounts.users, 200),
    accounts: { ...accounts, refreshTokenDays: 7, trustedProxies: opts.trustedProxies ?? [] },
    live,
    fleet,
    system: { service: new SystemService({ db, dataDir: null }), startedAt: new Date(Date.now() - 5_000), logs },
    jobs: jobs.jobs.service,
    network,
    maintenance: new MaintenanceService({ db }),
    analytics: new AnalyticsService({ db, sensors, settings: { maxWindowDays: 90 }, ...(opts.now ? { now: opts.now } : {}) }),
    search: new SearchService({
      db,
      subnets: () => network.subnets(),
      settings: { maxWindowDays: DEFAULT_NETWORK_SETTINGS.maxWindowDays, defaultWindowDays: 7 },
      ...(opts.now ? { now: opts.now } : {}),
    }),
    manifestKeys: jobs.results,
    packets: new PacketsService({ jobs: jobs.jobs.service, results: jobs.results, log }),
    uploads: { tokens: jobs.tokens, service: jobs.uploads },
    ...(opts.now ? { now: opts.now } : {}),
    // Every reply() a route test gets was checked against its operation's response schema.
    checkResponses: true,
  });
  return {
    ...http,
    token,
    logs,
    accounts,
    cache,
    db,
    sensors,
    events,
    stats,
    broker,
    live,
    jobs,
    resultsDir,
    network,
    async accessTokenOf(username) {
      const res = await http.app.request(`${API_PREFIX}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: USER_PASSWORD, client: 'api' }),
      });
      if (res.status !== 200) throw new Error(`fixture login of ${username}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { accessToken: string }).accessToken;
    },
    async close() {
      await jobs.close();
      rmSync(resultsDir, { recursive: true, force: true });
      await live.close();
      await cache.close();
      await broker.close();
      await db.close();
    },
  };
}
