/**
 * The JSON shapes the dashboard reads: the collector's own types (type-only imports, erased at
 * build, checked by `npm run typecheck -w web`), so a change on the server is a type error here
 * rather than a silent mismatch. Only shapes the collector builds inline in a route (no domain
 * type to import) are written out below.
 */
export type { ActivityEntry, DeviceView, HealthPoint, LatestHealth, LocationView, SensorStatus } from '../../../collector/src/domain/sensors/sensors.types.js';
/** A sensor as GET /sensors and /sensors/{name} answer (every time ISO 8601, the sources' with nanoseconds). */
export type { SensorApiView as SensorView, PcapSourceView as PcapSource } from '../../../collector/src/domain/sensors/sensors.types.js';
export type { SensorHealthEvent, SensorStatusEvent } from '../../../collector/src/domain/events.js';
export type { Role } from '../../../collector/src/domain/accounts/roles.js';
/** Who is signed in (`user` of POST /login and /refresh). */
export type { AuthenticatedUser as User, UserView } from '../../../collector/src/domain/accounts/users.service.js';
/** One audit log entry of GET /admin/audit. */
export type { AuditEntryView as AuditEntry } from '../../../collector/src/domain/accounts/audit.service.js';
/** Jobs (docs/jobs.md): the views of GET /jobs, /jobs/{id}, the plan of POST /jobs, the manifest. */
export type {
  EvidenceManifest,
  JobDetail,
  JobFilterInput,
  JobLimits,
  JobPlan,
  JobStatus,
  JobTargets,
  JobView,
  PlanEntry,
  TaskStatus,
  TaskView,
} from '../../../collector/src/domain/jobs/jobs.types.js';
/** GET /jobs/{id}/packets and /jobs/{id}/packets/{n}: the packet view of the merged result. */
export type { PacketDetail, PacketPage, PacketRow } from '../../../collector/src/domain/jobs/packets.service.js';
export type { PacketLayer } from '../../../shared/src/pcap/dissect.js';
/** GET /jobs/{id}/analysis. */
export type { AnalysisReport } from '../../../shared/src/pcap/analyze/report.js';
export type { JobStatusEvent, TaskProgressEvent } from '../../../collector/src/domain/events.js';
import type { JobStatusEvent, TaskProgressEvent } from '../../../collector/src/domain/events.js';
import type { Session } from '../../../collector/src/domain/accounts/auth.service.js';
import type { SensorHealthEvent, SensorStatusEvent } from '../../../collector/src/domain/events.js';
import type { SensorStatus } from '../../../collector/src/domain/sensors/sensors.types.js';
import type { IngestSnapshot } from '../../../collector/src/domain/ingest-stats.js';
import type { Preferences as StoredPreferences } from '../../../collector/src/domain/accounts/preferences.service.js';

import type { AuthenticatedUser } from '../../../collector/src/domain/accounts/users.service.js';

/**
 * GET /me (built in collector/src/http/routes/session.ts): who the credential belongs to. `id` is
 * the principal, `user:{id}` or `token:{id}` — what owns jobs (a job's `ownerId`), unlike the name,
 * which a deleted and re-created user or token shares with its predecessor.
 */
export interface Me extends AuthenticatedUser {
  id: string;
  kind: 'user' | 'api-token';
}

/** The signed-in user as the session holds it: `id` (the principal, from GET /me) once known. */
export type SessionUser = AuthenticatedUser & { id?: string };

/** One frame of the live feed (`GET /api/v1/ws`). */
export type LiveMessage = { type: 'hello'; time: string } | SensorStatusEvent | SensorHealthEvent | JobStatusEvent | TaskProgressEvent;

/**
 * 200 of POST /login and POST /refresh. A browser's refresh token travels only in its httpOnly
 * cookie, so the dashboard never sees `refreshToken` (API clients get it in the body).
 */
export type LoginResult = Omit<Session, 'refreshToken'>;

/** GET /preferences: the stored values, plus the avatar as a data URL when one is set. */
export type Preferences = StoredPreferences & { avatar?: string };

/** GET /health/summary (built in collector/src/http/routes/health.ts from these domain types). */
export interface HealthSummary {
  sensors: Record<SensorStatus, number>;
  /** The per-kind and per-reason counters are there too; the dashboard reads the totals. */
  ingest: Pick<IngestSnapshot, 'since' | 'acceptedTotal' | 'rejectedTotal'>;
  database: { kind: string; ok: boolean; latencyMs: number | null };
  broker: Record<string, unknown>;
}

/** The error body every failing API call returns. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** Network (GET /network/locations, /network/subnets, /network/traffic) and search (GET /search). */
export type { FlowView, NetworkLocationsView, NetworkLocationView, SubnetView, TrafficView } from '../../../collector/src/domain/network/network.types.js';
export type { AddressView, JobHit, LocationHit, SearchView, SensorHit, SubnetHit, UserHit } from '../../../collector/src/domain/search/search.service.js';
/** Admin views: storage, maintenance log, integrations, API tokens, enrolment tokens. */
export type { StorageView } from '../../../collector/src/domain/system/system.service.js';
export type { MaintenanceOperationView, MaintenancePage } from '../../../collector/src/domain/maintenance/maintenance.service.js';
export type { IntegrationView } from '../../../collector/src/domain/fleet/integrations.service.js';
export type { ApiTokenView } from '../../../collector/src/domain/accounts/api-tokens.service.js';
export type { EnrolmentToken } from '../../../collector/src/domain/fleet/enrolment.service.js';

/** GET /admin/system/status (built inline in collector/src/http/routes/admin-system.ts; schema SystemStatus). */
export interface SystemStatus {
  uptimeSeconds: number;
  startedAt: string;
  versions: { collector: string; node: string };
  database: { kind: string; bytes: number };
  broker: Record<string, unknown>;
  messages: { accepted: number; rejected: number; perSecond: number };
  queues: { liveFeedClients: number; liveFeedSent: number };
  audit: { recorded: number; failed: number };
  logins: { overBudget: boolean } & Record<string, number | boolean>;
}
