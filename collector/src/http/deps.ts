/**
 * What the HTTP app needs from the rest of the collector: narrow slices, so tests build it over
 * real services without a broker or a listening socket.
 */
import type { JSONWebKeySet } from 'jose';
import type { JobsApi } from '../domain/jobs/jobs.types.js';
import type { PacketsService } from '../domain/jobs/packets.service.js';
import type { LoginThrottle } from '../domain/accounts/login-throttle.js';
import type { Logger } from 'pino';
import type { BrokerStatus } from '../broker/transport.js';
import type { ApiTokensService } from '../domain/accounts/api-tokens.service.js';
import type { AuditService } from '../domain/accounts/audit.service.js';
import type { AuthService } from '../domain/accounts/auth.service.js';
import type { EnrolmentService } from '../domain/fleet/enrolment.service.js';
import type { IntegrationsService } from '../domain/fleet/integrations.service.js';
import type { IngestStats } from '../domain/ingest-stats.js';
import type { PreferencesService } from '../domain/accounts/preferences.service.js';
import type { UserAdminService } from '../domain/accounts/user-admin.service.js';
import type { UsersService } from '../domain/accounts/users.service.js';
import type { LogRing } from '../log-ring.js';
import type { SensorService } from '../domain/sensors/sensors.service.js';
import type { SystemService } from '../domain/system/system.service.js';
import type { Db } from '../storage/db.js';
import type { UploadService } from '../domain/jobs/uploads.service.js';
import type { NetworkService } from '../domain/network/network.service.js';
import type { MaintenanceService } from '../domain/maintenance/maintenance.service.js';
import type { SearchService } from '../domain/search/search.service.js';
import type { AnalyticsService } from '../domain/analytics/analytics.service.js';
import type { TaskTokenVerifier, TokenVerifier } from './auth.js';
import type { LiveFeed } from './live-feed.js';
import type { Metrics } from './metrics.js';

export type SensorQueries = Pick<SensorService, 'list' | 'get' | 'status' | 'devices' | 'healthSeries' | 'activity' | 'locations' | 'statusCounts'>;

export interface HttpDeps {
  log: Logger;
  /** The collector's version (package.json). */
  version: string;
  sensors: SensorQueries;
  ingestStats: Pick<IngestStats, 'snapshot'>;
  db: Pick<Db, 'kind' | 'ping'>;
  broker: { status(): BrokerStatus };
  tokens: TokenVerifier;
  /** Users, sessions and the audit log (routes/session.ts, preferences, admin). */
  accounts: {
    auth: AuthService;
    /** Login brute-force protection (domain/accounts/login-throttle.ts): its counters and state for admin/system/status. */
    throttle: Pick<LoginThrottle, 'counters' | 'overBudget'>;
    users: UsersService;
    userAdmin: UserAdminService;
    audit: AuditService;
    preferences: PreferencesService;
    /** Integrator API tokens (routes/admin-api-tokens.ts). */
    apiTokens: ApiTokensService;
    /** config.auth.refreshTokenDays: the refresh cookie's Max-Age. */
    refreshTokenDays: number;
    /** config.http.trustedProxies: peers whose X-Forwarded-Proto is believed (Secure cookies behind a TLS proxy). */
    trustedProxies?: readonly string[];
  };
  live: LiveFeed;
  /** Sensor enrolment, secret rotation/revocation, MQTT integration accounts (routes/admin-sensors.ts). */
  fleet: { enrolment: EnrolmentService; integrations: IntegrationsService };
  /** What the admin system views read (routes/admin-system.ts). */
  system: {
    /** Database and table sizes, the data directory's disk. */
    service: Pick<SystemService, 'databaseBytes' | 'storage'>;
    startedAt: Date;
    logs: LogRing;
  };
  /** Capture jobs (routes/jobs.ts): JobsService. The routes audit submit, cancel, delete and download (JobsApi does not). */
  jobs: JobsApi;
  /** The packet view of merged results (routes/job-packets.ts): PacketsService. */
  packets: Pick<PacketsService, 'page' | 'packet'>;
  /** The evidence manifest signing key's public half (GET /jobs/manifest-key): ResultsService or ManifestSigner. */
  manifestKeys: { publicJwks(): JSONWebKeySet };
  /**
   * Task result uploads (routes/task-upload.ts): the task token verifier ('task' permission) and
   * the UploadService. Absent: the upload routes are not mounted and 'task' routes answer 401.
   */
  uploads?: {
    tokens: TaskTokenVerifier;
    service: Pick<UploadService, 'declare' | 'chunk' | 'status' | 'chunkMaxBytes'>;
  };
  /** The network view (routes/network.ts, routes/admin-network.ts): NetworkService. */
  network: Pick<NetworkService, 'traffic' | 'subnets' | 'locations' | 'pin' | 'unpin' | 'updateLocation' | 'clearCache'>;
  /** The partition manager's log (routes/admin-maintenance.ts): MaintenanceService. */
  maintenance: Pick<MaintenanceService, 'list'>;
  /** The search box (routes/search.ts): SearchService. */
  search: Pick<SearchService, 'search'>;
  /** Sensor, job and traffic statistics (routes/analytics.ts): AnalyticsService. */
  analytics: Pick<AnalyticsService, 'sensors' | 'jobs' | 'traffic'>;
  /** Prometheus metrics (metrics.ts) and config.metrics.token: GET /api/v1/metrics, and each request's duration observed. Absent: neither. */
  metrics?: { metrics: Metrics; token?: string | undefined };
  /** Collector clock; default `() => new Date()`. */
  now?: () => Date;
  /** Tests: check every reply() body against its operation's response schema (a mismatch → 500 naming it; openapi/operation.ts). Default false. */
  checkResponses?: boolean;
  /** Largest accepted request body. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Dashboard build served at `/` (static.ts). Default: defaultWebRoot(). */
  webRoot?: string | undefined;
}
