/**
 * Test fixture: the HTTP app over real parts — an in-memory PGlite with the migrations applied,
 * the real SensorService, the memory cache carrying the live feed, an embedded broker on an
 * ephemeral port, and one stored API token.
 */
import { hash } from '@node-rs/argon2';
import { pino } from 'pino';
import { startEmbeddedBroker, type EmbeddedBroker } from '../broker/embedded.js';
import { MemoryCache } from '../cache/memory.js';
import { DomainEvents } from '../domain/events.js';
import { IngestStats } from '../domain/ingest-stats.js';
import { SensorService } from '../domain/sensors.service.js';
import { ApiTokensRepo } from '../storage/api-tokens.repo.js';
import { openDb, type Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { ApiTokenVerifier, generateApiToken } from './api-tokens.js';
import { createHttpApp, type HttpApp } from './app.js';
import { openLiveFeed, type LiveFeedHub } from './live-feed.js';

export interface TestHttp extends HttpApp {
  token: string;
  db: Db;
  sensors: SensorService;
  events: DomainEvents;
  stats: IngestStats;
  broker: EmbeddedBroker;
  live: LiveFeedHub;
  close(): Promise<void>;
}

export async function createTestHttp(opts: { now?: () => Date } = {}): Promise<TestHttp> {
  const log = pino({ level: 'silent' });
  const token = generateApiToken();
  const db = await openDb({ url: 'memory://' });
  await migrate(db);
  const repo = new ApiTokensRepo(db);
  await repo.put('test', await hash(token));
  const events = new DomainEvents();
  const stats = new IngestStats();
  const sensors = new SensorService({ db, events, log, heartbeatTimeoutSeconds: 30 });
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log,
    policy: { verifySecret: (name, secret) => sensors.verifySecret(name, secret) },
  });
  const cache = new MemoryCache('test:');
  const live = await openLiveFeed(events, cache, log);
  const http = createHttpApp({
    log,
    version: '9.9.9',
    sensors,
    ingestStats: stats,
    db,
    broker,
    tokens: new ApiTokenVerifier(repo, log),
    live,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return {
    ...http,
    token,
    db,
    sensors,
    events,
    stats,
    broker,
    live,
    async close() {
      await live.close();
      await cache.close();
      await broker.close();
      await db.close();
    },
  };
}
