/**
 * What the HTTP app needs from the rest of the collector: narrow slices, so tests build it over
 * real services without a broker or a listening socket.
 */
import type { Logger } from 'pino';
import type { BrokerStatus } from '../broker/transport.js';
import type { IngestStats } from '../domain/ingest-stats.js';
import type { SensorService } from '../domain/sensors.service.js';
import type { Db } from '../storage/db.js';
import type { TokenVerifier } from './auth.js';
import type { LiveFeed } from './live-feed.js';

export type SensorQueries = Pick<
  SensorService,
  'list' | 'get' | 'status' | 'devices' | 'healthSeries' | 'activity' | 'locations' | 'statusCounts'
>;

export interface HttpDeps {
  log: Logger;
  /** The collector's version (package.json). */
  version: string;
  sensors: SensorQueries;
  ingestStats: Pick<IngestStats, 'snapshot'>;
  db: Pick<Db, 'kind' | 'ping'>;
  broker: { status(): BrokerStatus };
  tokens: TokenVerifier;
  live: LiveFeed;
  /** Collector clock; default `() => new Date()`. */
  now?: () => Date;
  /** Largest accepted request body. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Dashboard build served at `/` (static.ts). Default: defaultWebRoot(). */
  webRoot?: string | undefined;
}
