/**
 * LEGACY, going away: the hand-written part of the OpenAPI document, for the routes not yet moved
 * to defineOperation (openapi/operation.ts). openapi/routes.ts merges it into the generated one.
 *
 * One module, read top to bottom: building blocks; the schemas (request bodies and query strings
 * derived from the routes' own zod schemas with `z.toJSONSchema`, response views hand-written to
 * mirror the view types of domain/*.ts); the error responses of http/errors.ts; then every
 * operation, grouped by tag. openapi.test.ts walks the real app's routes and fails on drift in
 * either direction (a route not documented, an operation not served, a permission that differs).
 *
 * Each operation carries the permission level its route enforces (`x-permission`, auth.ts
 * `permit(level)`) and says it in its description. Nothing in here is secret.
 *
 * @example
 *   const doc = openApiDocument({ version: '1.2.3', prefix: '/api/v1' });
 *   doc.paths['/api/v1/sensors/{name}']?.get?.['x-permission'];   // 'read'
 */
import { z } from 'zod';
import { DOMAIN_ERROR_CODES } from '../domain/errors.js';
import { ROLES, roleAllows, type Permission } from '../domain/accounts/roles.js';
import { LOG_LEVEL_NAMES } from '../log-ring.js';
import { sensorParams } from './params.js';
import { createApiTokenBody, tokenName } from './routes/admin-api-tokens.js';
import { auditQuery } from './routes/admin-audit.js';
import { createSensorBody, enrolmentBody, enrollBody, integrationBody } from './routes/admin-sensors.js';
import { logsQuery } from './routes/admin-system.js';
import { createUserBody, updateUserBody, usernameParams } from './routes/admin-users.js';

// ─── building blocks ─────────────────────────────────────────────────────────────────────────────

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) or any other OpenAPI object. */
export type Json = { [key: string]: unknown };

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, Json>>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json>; securitySchemes: Record<string, Json> };
}

const ref = (schema: string): Json => ({ $ref: `#/components/schemas/${schema}` });
const string: Json = { type: 'string' };
const integer: Json = { type: 'integer' };
const number: Json = { type: 'number' };
const boolean: Json = { type: 'boolean' };
const time: Json = { type: 'string', format: 'date-time', description: 'ISO 8601, UTC' };
const orNull = (schema: Json): Json => ({ anyOf: [schema, { type: 'null' }] });
const arrayOf = (items: Json): Json => ({ type: 'array', items });
const oneOfValues = (values: readonly string[], description?: string): Json => ({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

/** An object whose properties are all required unless named in `optional`. */
function object(properties: Record<string, Json>, opts: { optional?: string[]; description?: string } = {}): Json {
  const required = Object.keys(properties).filter((key) => !opts.optional?.includes(key));
  return { type: 'object', ...(opts.description ? { description: opts.description } : {}), properties, required };
}

/** The JSON Schema of a route's zod schema: what a client sends (`input`) or what it gets (`output`). */
function fromZod(schema: z.ZodType, io: 'input' | 'output' = 'input'): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return json;
}

/** `json` with descriptions set on some of its properties (rules a zod refine or the domain checks). */
function describe(json: Json, notes: Record<string, string>): Json {
  const properties = { ...(json.properties as Record<string, Json>) };
  for (const [key, description] of Object.entries(notes)) {
    if (!properties[key]) throw new Error(`openapi: no property ${key} to describe`);
    properties[key] = { ...properties[key], description };
  }
  return { ...json, properties };
}

/** OpenAPI parameters (`in`: path or query) from a zod object schema of a route. */
function parametersOf(where: 'path' | 'query', schema: z.ZodType, notes: Record<string, string> = {}): Json[] {
  const json = fromZod(schema);
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(json.properties as Record<string, Json>).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
    ...(notes[name] ? { description: notes[name] } : {}),
  }));
}

const SENSOR_NAME = 'sensor name: a-z, 0-9, ".", "_", "-"; 1-63 characters, starting with a letter or digit';
const INSTANT = 'a point in time: ISO 8601 with a zone (2026-01-02T03:04:05Z) or epoch milliseconds';
const sensorPath = parametersOf('path', sensorParams, { name: SENSOR_NAME });

// ─── schemas ─────────────────────────────────────────────────────────────────────────────────────

const ROLE_LIST = 'admin, analyst or viewer (what each may do: the permission levels of the operations)';

const schemas: Record<string, Json> = {
  // errors (http/errors.ts)
  Error: object(
    {
      error: object({
        code: oneOfValues([...DOMAIN_ERROR_CODES, 'too_large', 'internal', 'error']),
        message: { type: 'string', description: 'a sentence for people; names the field at fault for invalid input' },
      }),
    },
    { description: 'Every error response: `{ "error": { "code", "message" } }` with the matching HTTP status.' },
  ),
  Role: oneOfValues(ROLES, ROLE_LIST),
  BrokerStatus: object({
    mode: oneOfValues(['embedded', 'external']),
    clients: { type: 'integer', description: 'connected MQTT clients (embedded), or 1/0 for the collector connection (external)' },
    ok: boolean,
  }),
  // admin: users (domain/accounts/users.service.ts)
  UserView: object({
    username: string,
    role: ref('Role'),
    source: oneOfValues(['local', 'ldap']),
    disabled: boolean,
    createdAt: time,
    updatedAt: time,
    lastLoginAt: orNull(time),
  }),
  UserCreate: describe(fromZod(createUserBody), {
    username: 'a-z, 0-9, ".", "_", "@", "-"; 1-64 characters (checked by the server)',
    password: 'at least 10 characters (checked by the server)',
  }),
  UserUpdate: describe(fromZod(updateUserBody), {
    disabled: 'true ends the user’s sessions',
    password: 'at least 10 characters; ends the user’s sessions (local users only)',
  }),

  // admin: audit (domain/accounts/audit.service.ts)
  AuditEntry: object({
    id: integer,
    at: time,
    actor: orNull({ type: 'string', description: 'username, token:<label>, sensor:<name> or cli; null when nobody authenticated' }),
    action: string,
    target: orNull(string),
    outcome: oneOfValues(['ok', 'denied', 'failed']),
    sourceIp: orNull(string),
    details: { type: 'object', additionalProperties: true },
  }),
  AuditPage: object({
    entries: arrayOf(ref('AuditEntry')),
    next: orNull({ type: 'string', description: 'the cursor of the next (older) page; null at the end' }),
  }),

  // admin: system (routes/admin-system.ts)
  SystemStatus: object({
    uptimeSeconds: integer,
    startedAt: time,
    versions: object({ collector: string, node: string }),
    database: object({ kind: oneOfValues(['pglite', 'postgres']), bytes: integer }),
    broker: ref('BrokerStatus'),
    messages: object({ accepted: integer, rejected: integer, perSecond: number }),
    queues: object({ liveFeedClients: integer, liveFeedSent: integer }),
    audit: object({ recorded: integer, failed: integer }),
    logins: object(
      {
        overBudget: { type: 'boolean', description: 'failed logins exceed the global budget: unknown sources share the password-check bucket' },
        refused: integer,
        failures: integer,
        lockouts: integer,
        budgetRefused: integer,
        busyRefused: integer,
        passwordChecks: integer,
        knownAttempts: integer,
        budgetEntered: integer,
        budgetLeft: integer,
      },
      { description: 'login brute-force protection (domain/accounts/login-throttle.ts) since this process started' },
    ),
  }),
  Storage: object({
    database: object({
      kind: oneOfValues(['pglite', 'postgres']),
      bytes: integer,
      tables: arrayOf(
        object({
          table: string,
          bytes: integer,
          rows: { type: 'integer', description: 'estimated (planner statistics; -1 or 0 before the first ANALYZE)' },
          partitions: integer,
        }),
      ),
    }),
    dataDir: orNull(object({ path: string, totalBytes: integer, freeBytes: integer })),
  }),
  LogLines: object({
    lines: arrayOf({ type: 'object', additionalProperties: true, description: 'one structured (pino) log line: level, time, msg, component, ...' }),
  }),

  // admin: sensor enrolment and integrations (domain/fleet/enrolment.service.ts, integrations.service.ts)
  SensorCreate: describe(fromZod(createSensorBody), { name: SENSOR_NAME }),
  EnrolmentRequest: fromZod(enrolmentBody),
  EnrolRequest: describe(fromZod(enrollBody), { token: 'the one-time enrolment token (pme_…) an admin was given' }),
  EnrolmentToken: object({ token: { type: 'string', description: 'pme_…, single use; shown once' }, expiresAt: time }),
  SensorCreated: object({ sensor: ref('SensorView'), enrolment: ref('EnrolmentToken') }),
  SensorSecret: object({ sensor: string, secret: { type: 'string', description: "the sensor's MQTT password; shown once" } }),
  IntegrationCreate: describe(fromZod(integrationBody), { name: 'a-z, 0-9, ".", "_", "-"; 1-63 characters (checked by the server)' }),
  IntegrationView: object({
    name: string,
    username: { type: 'string', description: 'integration:<name>: the MQTT username; client ids start with it' },
    createdBy: orNull(string),
    createdAt: time,
  }),
  IntegrationCreated: object({
    name: string,
    username: string,
    createdBy: orNull(string),
    createdAt: time,
    secret: { type: 'string', description: 'the MQTT password; shown once' },
  }),

  // admin: API tokens (routes/admin-api-tokens.ts)
  ApiTokenCreate: fromZod(createApiTokenBody),
  ApiTokenView: object({ name: string, role: ref('Role') }),
  ApiTokenCreated: object({ name: string, role: ref('Role'), token: { type: 'string', description: 'send as Authorization: Bearer …; shown once' } }),
};

// ─── errors (http/errors.ts) ─────────────────────────────────────────────────────────────────────

const errorContent = { 'application/json': { schema: ref('Error') } };
const ERROR_RESPONSES: Record<number, [name: string, description: string, headers?: Json]> = {
  400: ['Invalid', 'invalid (code `invalid`): a parameter or the body is wrong; the message names the field'],
  401: [
    'Unauthenticated',
    'no credential, or one that is not valid (code `unauthenticated`)',
    { 'WWW-Authenticate': { description: 'Bearer realm="pcapmesh" (when a bearer credential was missing or bad)', schema: string } },
  ],
  403: ['Forbidden', "the caller's role falls short of the operation's permission (code `forbidden`)"],
  404: ['NotFound', 'no such item (code `not_found`)'],
  409: ['Conflict', 'conflicts with what exists (code `conflict`)'],
  413: ['TooLarge', 'the request body is larger than the body limit (default 1 MiB; code `too_large`)'],
  426: ['UpgradeRequired', 'a plain request to a WebSocket endpoint (code `invalid`)'],
  429: ['Throttled', 'too many failed attempts; come back later (code `throttled`)', { 'Retry-After': { description: 'seconds to wait', schema: integer } }],
  500: ['Internal', 'unexpected failure, logged with the request id (code `internal`)'],
};

const responses: Record<string, Json> = Object.fromEntries(
  Object.values(ERROR_RESPONSES).map(([name, description, headers]) => [name, { description, ...(headers ? { headers } : {}), content: errorContent }]),
);

const securitySchemes: Record<string, Json> = {
  accessToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A user’s access JWT from POST /api/v1/login (valid for auth.accessTokenMinutes, 15 by default; renew with /refresh).',
  },
  apiToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'An integrator’s API token (role-scoped; created by an admin with POST /api/v1/admin/api-tokens), sent as Authorization: Bearer ….',
  },
};

// ─── operations, by tag ──────────────────────────────────────────────────────────────────────────

interface Operation {
  method: HttpMethod;
  /** Path under the API prefix, OpenAPI form (`/sensors/{name}`). */
  path: string;
  id: string;
  tag: string;
  summary: string;
  description?: string;
  permission: Permission;
  /** Only a user's access JWT (an API token passes the permission but is refused with 403). */
  usersOnly?: boolean;
  parameters?: Json[];
  /** A component schema name (JSON), or raw content for other media types. */
  body?: { schema: string; required?: boolean } | { content: Json; description: string };
  /** The success response: status, description, and a component schema name or raw content. */
  ok: { status: number; description: string; schema?: string; content?: Json; headers?: Json };
  /** Statuses besides 401/403 (from the permission), 413 (with a body) and 500 (always). */
  errors?: number[];
  extensions?: Json;
}

const TAGS: { name: string; description: string }[] = [
  { name: 'health', description: 'Liveness, the collector clock, and a summary of the fleet and ingest.' },
  { name: 'session', description: 'Sign-in: access JWTs and single-use refresh tokens.' },
  { name: 'sensors', description: 'The sensor fleet: status, capture devices, health series, activity.' },
  { name: 'locations', description: 'Sites and their sensor counts.' },
  { name: 'live', description: 'The WebSocket live feed of sensor status and health.' },
  { name: 'preferences', description: 'The signed-in user’s dashboard preferences and avatar.' },
  { name: 'enrolment', description: 'Sensors exchanging a one-time token for their secret.' },
  { name: 'admin-users', description: 'User accounts (admin).' },
  { name: 'admin-audit', description: 'The audit log (admin).' },
  { name: 'admin-system', description: 'System status, storage and recent logs (admin).' },
  { name: 'admin-sensors', description: 'Creating sensors, enrolment tokens, rotating and revoking sensor secrets (admin).' },
  { name: 'admin-integrations', description: 'Read-only MQTT accounts for `pcapmesh/v1/events/#` (admin).' },
  { name: 'admin-api-tokens', description: 'Role-scoped API tokens for integrators (admin).' },
  { name: 'meta', description: 'This document.' },
];

const json = (schema: string): Json => ({ 'application/json': { schema: ref(schema) } });
const noContent = { status: 204, description: 'done (no body)' };

const usernamePath = parametersOf('path', usernameParams);

const adminUserOps: Operation[] = [
  {
    method: 'get', path: '/admin/users', id: 'listUsers', tag: 'admin-users', permission: 'admin',
    summary: 'Every user',
    ok: { status: 200, description: 'the users', content: { 'application/json': { schema: object({ users: arrayOf(ref('UserView')) }) } } },
  },
  {
    method: 'post', path: '/admin/users', id: 'createUser', tag: 'admin-users', permission: 'admin',
    summary: 'Create a local user (audited)',
    body: { schema: 'UserCreate' },
    ok: { status: 201, description: 'created', schema: 'UserView' },
    errors: [400, 409],
  },
  {
    method: 'get', path: '/admin/users/{username}', id: 'getUser', tag: 'admin-users', permission: 'admin',
    summary: 'One user',
    parameters: usernamePath,
    ok: { status: 200, description: 'the user', schema: 'UserView' },
    errors: [400, 404],
  },
  {
    method: 'put', path: '/admin/users/{username}', id: 'updateUser', tag: 'admin-users', permission: 'admin',
    summary: 'Change a user’s role, disabled flag or password (audited)',
    description: 'Taking rights away (disabled, a new role, a new password) ends the user’s sessions. 409 when it would leave no enabled admin.',
    parameters: usernamePath,
    body: { schema: 'UserUpdate' },
    ok: { status: 200, description: 'the user after the change', schema: 'UserView' },
    errors: [400, 404, 409],
  },
  {
    method: 'delete', path: '/admin/users/{username}', id: 'deleteUser', tag: 'admin-users', permission: 'admin',
    summary: 'Delete a user and end their sessions (audited)',
    parameters: usernamePath,
    ok: noContent,
    errors: [400, 404, 409],
  },
];

const adminAuditOps: Operation[] = [
  {
    method: 'get', path: '/admin/audit', id: 'listAudit', tag: 'admin-audit', permission: 'admin',
    summary: 'The audit log, newest first, a page at a time',
    parameters: parametersOf('query', auditQuery, {
      from: `start; ${INSTANT}`,
      to: `end; ${INSTANT}`,
      actor: 'exact actor (username, token:<label>, cli)',
      action: 'exact action, or a prefix ending in "." (login. → login.lockout, ...)',
      cursor: 'the `next` of the previous page',
    }),
    ok: { status: 200, description: 'a page', schema: 'AuditPage' },
    errors: [400],
  },
];

const adminSystemOps: Operation[] = [
  {
    method: 'get', path: '/admin/system/status', id: 'getSystemStatus', tag: 'admin-system', permission: 'admin',
    summary: 'Uptime, versions, database, broker, message rates, live-feed and audit counters',
    ok: { status: 200, description: 'the status', schema: 'SystemStatus' },
  },
  {
    method: 'get', path: '/admin/storage', id: 'getStorage', tag: 'admin-system', permission: 'admin',
    summary: 'Database and table sizes, and the data directory’s disk',
    ok: { status: 200, description: 'the sizes', schema: 'Storage' },
  },
  {
    method: 'get', path: '/admin/logs', id: 'listLogs', tag: 'admin-system', permission: 'admin',
    summary: 'Recent structured log lines of this process, oldest first',
    parameters: parametersOf('query', logsQuery, {
      level: `minimum level (${LOG_LEVEL_NAMES.join(', ')})`,
      component: 'lines of this component only (http, broker, ingest, ...)',
      limit: 'the newest this many matching lines',
    }),
    ok: { status: 200, description: 'the lines', schema: 'LogLines' },
    errors: [400],
  },
];

const adminSensorOps: Operation[] = [
  {
    method: 'post', path: '/admin/sensors', id: 'createSensor', tag: 'admin-sensors', permission: 'admin',
    summary: 'Register a sensor and get its one-time enrolment token (audited)',
    description: 'On the sensor: `pcapmesh-agent enroll --collector URL --token pme_…` redeems the token at POST /enroll.',
    body: { schema: 'SensorCreate' },
    ok: { status: 201, description: 'created', schema: 'SensorCreated' },
    errors: [400, 409],
  },
  {
    method: 'post', path: '/admin/sensors/{name}/enrolment', id: 'issueEnrolmentToken', tag: 'admin-sensors', permission: 'admin',
    summary: 'A new one-time enrolment token for an existing sensor (re-enrol; audited)',
    parameters: sensorPath,
    body: { schema: 'EnrolmentRequest' },
    ok: { status: 201, description: 'the token', schema: 'EnrolmentToken' },
    errors: [400, 404],
  },
  {
    method: 'post', path: '/admin/sensors/{name}/rotate', id: 'rotateSensorSecret', tag: 'admin-sensors', permission: 'admin',
    summary: 'A new secret for a sensor; the old one dies and the sensor is disconnected at once (audited)',
    parameters: sensorPath,
    ok: { status: 200, description: 'the new secret (shown once)', schema: 'SensorSecret' },
    errors: [400, 404],
  },
  {
    method: 'post', path: '/admin/sensors/{name}/revoke', id: 'revokeSensorSecret', tag: 'admin-sensors', permission: 'admin',
    summary: 'No secret works any more; the sensor is disconnected at once (audited)',
    parameters: sensorPath,
    ok: noContent,
    errors: [400, 404],
  },
  {
    method: 'post', path: '/enroll', id: 'enroll', tag: 'enrolment', permission: 'public',
    summary: 'A sensor exchanges its one-time enrolment token for its secret',
    description: 'The token is the credential (single use; expires). `pcapmesh-agent enroll` calls this.',
    body: { schema: 'EnrolRequest' },
    ok: { status: 200, description: 'the sensor’s name and MQTT secret (shown once)', schema: 'SensorSecret' },
    errors: [400, 401],
  },
];

const adminIntegrationOps: Operation[] = [
  {
    method: 'get', path: '/admin/integrations', id: 'listIntegrations', tag: 'admin-integrations', permission: 'admin',
    summary: 'Every MQTT integration account',
    ok: { status: 200, description: 'the accounts', content: { 'application/json': { schema: object({ integrations: arrayOf(ref('IntegrationView')) }) } } },
  },
  {
    method: 'post', path: '/admin/integrations', id: 'createIntegration', tag: 'admin-integrations', permission: 'admin',
    summary: 'Create a read-only MQTT account integration:<name> for events/# (audited)',
    body: { schema: 'IntegrationCreate' },
    ok: { status: 201, description: 'created; the secret is shown once', schema: 'IntegrationCreated' },
    errors: [400, 409],
  },
  {
    method: 'delete', path: '/admin/integrations/{name}', id: 'deleteIntegration', tag: 'admin-integrations', permission: 'admin',
    summary: 'Delete an integration account and disconnect its clients (audited)',
    parameters: parametersOf('path', sensorParams, { name: 'integration name: a-z, 0-9, ".", "_", "-"; 1-63 characters' }),
    ok: noContent,
    errors: [400, 404],
  },
];

const adminApiTokenOps: Operation[] = [
  {
    method: 'get', path: '/admin/api-tokens', id: 'listApiTokens', tag: 'admin-api-tokens', permission: 'admin',
    summary: 'Every API token (names and roles; never the tokens)',
    ok: { status: 200, description: 'the tokens', content: { 'application/json': { schema: object({ tokens: arrayOf(ref('ApiTokenView')) }) } } },
  },
  {
    method: 'post', path: '/admin/api-tokens', id: 'createApiToken', tag: 'admin-api-tokens', permission: 'admin',
    summary: 'Create a role-scoped API token (shown once; audited)',
    body: { schema: 'ApiTokenCreate' },
    ok: { status: 201, description: 'created', schema: 'ApiTokenCreated' },
    errors: [400, 409],
  },
  {
    method: 'delete', path: '/admin/api-tokens/{name}', id: 'deleteApiToken', tag: 'admin-api-tokens', permission: 'admin',
    summary: 'Delete an API token (audited)',
    description: 'A process that verified the token just before may accept it for up to a minute more.',
    parameters: parametersOf('path', z.object({ name: tokenName })),
    ok: noContent,
    errors: [400, 404],
  },
];

/** Every operation the API serves, in tag order. */
const OPERATIONS: Operation[] = [
  ...adminSensorOps,
  ...adminUserOps,
  ...adminAuditOps,
  ...adminSystemOps,
  ...adminIntegrationOps,
  ...adminApiTokenOps,
];

// ─── assembly ────────────────────────────────────────────────────────────────────────────────────

const whoReaches = (level: Permission): string =>
  level === 'public' ? 'anyone, no credential' : `roles ${ROLES.filter((role) => roleAllows(role, level)).join(', ')}`;

function toOperation(op: Operation): Json {
  const errors = new Set(op.errors ?? []);
  if (op.permission !== 'public') errors.add(401);
  if (op.usersOnly || (op.permission !== 'public' && op.permission !== 'read')) errors.add(403);
  if (op.body) errors.add(413);
  errors.add(500);
  const permissionLine =
    `Permission: \`${op.permission}\` (${whoReaches(op.permission)}).` +
    (op.usersOnly ? ' A user’s access JWT only: an API token gets 403.' : '');
  const okResponse: Json = {
    description: op.ok.description,
    ...(op.ok.headers ? { headers: op.ok.headers } : {}),
    ...(op.ok.schema ? { content: json(op.ok.schema) } : op.ok.content ? { content: op.ok.content } : {}),
  };
  const body = op.body
    ? 'schema' in op.body
      ? { required: op.body.required ?? true, content: json(op.body.schema) }
      : { required: true, description: op.body.description, content: op.body.content }
    : undefined;
  return {
    operationId: op.id,
    tags: [op.tag],
    summary: op.summary,
    description: op.description ? `${permissionLine}\n\n${op.description}` : permissionLine,
    'x-permission': op.permission,
    security: op.permission === 'public' ? [] : op.usersOnly ? [{ accessToken: [] }] : [{ accessToken: [] }, { apiToken: [] }],
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: {
      [String(op.ok.status)]: okResponse,
      ...Object.fromEntries(
        [...errors].sort((a, b) => a - b).map((status) => {
          const known = ERROR_RESPONSES[status];
          if (!known) throw new Error(`openapi: ${op.id} names status ${status}, which has no error response`);
          return [String(status), { $ref: `#/components/responses/${known[0]}` }];
        }),
      ),
    },
    ...op.extensions,
  };
}

/**
 * The document, with paths under `prefix` (the app's API_PREFIX, '/api/v1') and `version` the
 * collector's version.
 */
export function legacyDocument(opts: { version: string; prefix: string }): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const op of OPERATIONS) {
    const item = (paths[opts.prefix + op.path] ??= {});
    if (item[op.method]) throw new Error(`openapi: ${op.method.toUpperCase()} ${op.path} documented twice`);
    item[op.method] = toOperation(op);
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'pcapmesh collector API',
      version: opts.version,
      description:
        'The REST API of the pcapmesh collector: the sensor fleet, users and sessions, administration, and a WebSocket live feed. ' +
        'Authenticate with `Authorization: Bearer <token>`: a user’s access JWT (POST /api/v1/login) or an integrator’s API token. ' +
        'Each operation states its permission level in `x-permission` (public, read, analyst, download, admin) and in its description. ' +
        'Errors are `{ "error": { "code", "message" } }` with the matching HTTP status.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: TAGS,
    paths,
    components: { schemas, responses, securitySchemes },
  };
}
