/**
 * The JSON shapes the dashboard reads. Sensor views and live events are the collector's own
 * types (type-only imports: erased at build, checked by `npm run typecheck -w web`); the auth and
 * preference shapes are the contract of the users-and-roles API (issue 4).
 */
export type {
  ActivityEntry,
  DeviceView,
  HealthPoint,
  LocationView,
  SensorStatus,
  SensorView,
} from '../../../collector/src/domain/sensors.types.js';
export type { SensorHealthEvent, SensorStatusEvent } from '../../../collector/src/domain/events.js';
import type { SensorHealthEvent, SensorStatusEvent } from '../../../collector/src/domain/events.js';

/** One frame of the live feed (`GET /api/v1/ws`). */
export type LiveMessage = { type: 'hello'; time: string } | SensorStatusEvent | SensorHealthEvent;

export type Role = 'admin' | 'analyst' | 'viewer';

export interface User {
  username: string;
  role: Role;
}

/** 200 of POST /login and POST /refresh. */
export interface LoginResult {
  accessToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  user: User;
}

export interface Preferences {
  theme: 'system' | 'light' | 'dark';
  /** IANA time zone, e.g. "Europe/Berlin". */
  timeZone: string;
  /** A relative range key of the range picker, e.g. "1h". */
  defaultRange: string;
  pageSize: number;
  avatar?: string;
}

/** A user as GET /admin/users shows it (collector domain/users.service.ts UserView). */
export interface UserView {
  username: string;
  role: Role;
  source: 'local' | 'ldap';
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

/** One audit log entry (collector domain/audit.service.ts AuditEntryView). */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  sourceIp: string | null;
  details: Record<string, unknown>;
}

/** GET /health/summary. */
export interface HealthSummary {
  sensors: Record<string, number>;
  ingest: { since: string; acceptedTotal: number; rejectedTotal: number };
  database: { kind: string; ok: boolean; latencyMs: number | null };
  broker: Record<string, unknown>;
}

/** The error body every failing API call returns. */
export interface ErrorBody {
  error: { code: string; message: string };
}
