/**
 * Response schemas of the admin routes (admin-users, admin-audit, admin-system, admin-sensors,
 * admin-api-tokens), each tied with `mirrors` to the domain view it describes.
 */
import { z } from 'zod';
import type { ApiTokenView } from '../../domain/accounts/api-tokens.service.js';
import type { AuditEntryView } from '../../domain/accounts/audit.service.js';
import type { LoginThrottle } from '../../domain/accounts/login-throttle.js';
import type { UserView } from '../../domain/accounts/users.service.js';
import type { EnrolmentToken } from '../../domain/fleet/enrolment.service.js';
import type { IntegrationView } from '../../domain/fleet/integrations.service.js';
import type { StorageView } from '../../domain/system/system.service.js';
import { int, mirrors, oneOf, orNull, RoleSchema, time } from '../openapi/kit.js';
import { BrokerStatusSchema } from './health.schemas.js';
import { SensorViewSchema } from './sensors.schemas.js';

const databaseKind = oneOf(['pglite', 'postgres']);

// ─── users, audit ────────────────────────────────────────────────────────────────────────────────

export const UserViewSchema = mirrors<UserView>()(
  z
    .strictObject({
      username: z.string(),
      role: RoleSchema,
      source: oneOf(['local', 'ldap']),
      disabled: z.boolean(),
      createdAt: time,
      updatedAt: time,
      lastLoginAt: orNull(time),
    })
    .meta({ id: 'UserView' }),
);

export const AuditEntrySchema = mirrors<AuditEntryView>()(
  z
    .strictObject({
      id: int,
      at: time,
      actor: orNull(z.string()).describe('username, token:<label>, sensor:<name> or cli; null when nobody authenticated'),
      action: z.string(),
      target: orNull(z.string()),
      outcome: oneOf(['ok', 'denied', 'failed']),
      sourceIp: orNull(z.string()),
      details: z.record(z.string(), z.unknown()),
    })
    .meta({ id: 'AuditEntry' }),
);

export const AuditPageSchema = z
  .strictObject({
    entries: z.array(AuditEntrySchema),
    next: orNull(z.string()).describe('the cursor of the next (older) page; null at the end'),
  })
  .meta({ id: 'AuditPage' });

// ─── system ──────────────────────────────────────────────────────────────────────────────────────

const LoginCountersSchema = mirrors<{ overBudget: boolean } & LoginThrottle['counters']>()(
  z
    .strictObject({
      overBudget: z.boolean().describe('failed logins exceed the global budget: unknown sources share the password-check bucket'),
      refused: int,
      failures: int,
      lockouts: int,
      budgetRefused: int,
      busyRefused: int,
      passwordChecks: int,
      knownAttempts: int,
      budgetEntered: int,
      budgetLeft: int,
    })
    .describe('login brute-force protection (domain/accounts/login-throttle.ts) since this process started'),
);

export const SystemStatusSchema = z
  .strictObject({
    uptimeSeconds: int,
    startedAt: time,
    versions: z.strictObject({ collector: z.string(), node: z.string() }),
    database: z.strictObject({ kind: databaseKind, bytes: int }),
    broker: BrokerStatusSchema,
    messages: z.strictObject({ accepted: int, rejected: int, perSecond: z.number() }),
    queues: z.strictObject({ liveFeedClients: int, liveFeedSent: int }),
    audit: z.strictObject({ recorded: int, failed: int }),
    logins: LoginCountersSchema,
  })
  .meta({ id: 'SystemStatus' });

const StorageViewSchema = mirrors<StorageView>()(
  z.strictObject({
    database: z.strictObject({
      bytes: int,
      tables: z.array(
        z.strictObject({
          table: z.string(),
          bytes: int,
          rows: int.describe('estimated (planner statistics; -1 or 0 before the first ANALYZE)'),
          partitions: int,
        }),
      ),
    }),
    dataDir: orNull(z.strictObject({ path: z.string(), totalBytes: int, freeBytes: int })),
  }),
);

export const StorageSchema = z
  .strictObject({
    database: z.strictObject({ kind: databaseKind, ...StorageViewSchema.shape.database.shape }),
    dataDir: StorageViewSchema.shape.dataDir,
  })
  .meta({ id: 'Storage' });

export const LogLinesSchema = z
  .strictObject({
    lines: z.array(z.record(z.string(), z.unknown()).describe('one structured (pino) log line: level, time, msg, component, ...')),
  })
  .meta({ id: 'LogLines' });

// ─── sensors' enrolment, integrations, API tokens ────────────────────────────────────────────────

export const EnrolmentTokenSchema = mirrors<EnrolmentToken>()(
  z.strictObject({ token: z.string().describe('pme_…, single use; shown once'), expiresAt: time }).meta({ id: 'EnrolmentToken' }),
);

export const SensorCreatedSchema = z.strictObject({ sensor: SensorViewSchema, enrolment: EnrolmentTokenSchema }).meta({ id: 'SensorCreated' });

export const SensorSecretSchema = z
  .strictObject({ sensor: z.string(), secret: z.string().describe("the sensor's MQTT password; shown once") })
  .meta({ id: 'SensorSecret' });

export const IntegrationViewSchema = mirrors<IntegrationView>()(
  z
    .strictObject({
      name: z.string(),
      username: z.string().describe('integration:<name>: the MQTT username; client ids start with it'),
      createdBy: orNull(z.string()),
      createdAt: time,
    })
    .meta({ id: 'IntegrationView' }),
);

export const IntegrationCreatedSchema = z
  .strictObject({ ...IntegrationViewSchema.shape, secret: z.string().describe('the MQTT password; shown once') })
  .meta({ id: 'IntegrationCreated' });

export const ApiTokenViewSchema = mirrors<ApiTokenView>()(z.strictObject({ name: z.string(), role: RoleSchema }).meta({ id: 'ApiTokenView' }));

export const ApiTokenCreatedSchema = z
  .strictObject({ name: z.string(), role: RoleSchema, token: z.string().describe('send as Authorization: Bearer …; shown once') })
  .meta({ id: 'ApiTokenCreated' });
