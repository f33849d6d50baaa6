/**
 * The OpenAPI 3.1 document of the collector's HTTP API, served (public) at `GET /api/v1/openapi.json`,
 * generated from the operations the route modules mount (operation.ts): their zod schemas become
 * JSON Schema with `z.toJSONSchema` — io 'input' for parameters and request bodies, 'output' for
 * responses — and schemas that carry `.meta({ id })` become named components
 * (`#/components/schemas/<id>`). Nothing here describes a payload by hand.
 *
 * Each operation carries the permission level its route enforces (`x-permission`) and says it in
 * its description; 401/403/413/500 are added from the permission and the body. openapi.test.ts
 * walks the real app and fails on drift either way, and checks real answers against this document.
 *
 * @example
 *   const doc = openApiDocument(operations, { version: '1.2.3', prefix: '/api/v1' });
 *   doc.paths['/api/v1/sensors/{name}']?.get?.['x-permission'];   // 'read'
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { ROLES, roleAllows, type Permission } from '../../domain/accounts/roles.js';
import { ErrorSchema } from './kit.js';
import type { HttpMethod, Json, OperationSpec, ResponseSpec } from './operation.js';

export type { HttpMethod, Json };

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, Json>>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json>; securitySchemes: Record<string, Json> };
}

/** Every tag an operation may carry, in document order. A new route module adds its tag here. */
export const TAGS: { name: string; description: string }[] = [
  { name: 'health', description: 'Liveness, the collector clock, and a summary of the fleet and ingest.' },
  { name: 'session', description: 'Sign-in: access JWTs and single-use refresh tokens.' },
  { name: 'sensors', description: 'The sensor fleet: status, capture devices, health series, activity.' },
  { name: 'locations', description: 'Sites and their sensor counts.' },
  { name: 'live', description: 'The WebSocket live feed of sensor status and health.' },
  { name: 'preferences', description: 'The signed-in user’s dashboard preferences and avatar.' },
  { name: 'jobs', description: 'Capture jobs: extracting packets from sensors by time window and filter, their tasks, results and downloads.' },
  { name: 'uploads', description: 'Agents uploading task results in resumable, hashed chunks (the task upload token only).' },
  { name: 'enrolment', description: 'Sensors exchanging a one-time token for their secret.' },
  { name: 'admin-users', description: 'User accounts (admin).' },
  {
    name: 'network',
    description: 'The network view: traffic by subnet pair per location, the learned subnet → location map, locations with totals and flows.',
  },
  { name: 'admin-network', description: 'Pinning subnets to locations, locations’ coordinates (admin).' },
  { name: 'search', description: 'One search box over sensors, locations, subnets, jobs and users; where an address was seen.' },
  { name: 'analytics', description: 'Sensor, job and traffic statistics over a window.' },
  { name: 'admin-audit', description: 'The audit log (admin).' },
  { name: 'admin-system', description: 'System status, storage and recent logs (admin).' },
  { name: 'admin-sensors', description: 'Creating sensors, enrolment tokens, rotating and revoking sensor secrets (admin).' },
  { name: 'admin-integrations', description: 'Read-only MQTT accounts for `pcapmesh/v1/events/#` (admin).' },
  { name: 'admin-api-tokens', description: 'Role-scoped API tokens for integrators (admin).' },
  { name: 'meta', description: 'This document.' },
];

// ─── zod → JSON Schema ───────────────────────────────────────────────────────────────────────────

const SCHEMA_REF = '#/components/schemas/';
const SAFE = Number.MAX_SAFE_INTEGER;

/** Drops what zod adds that says nothing to a reader: the RFC 3339 regex beside format date-time, ±2^53 bounds of an int. */
function tidy({ jsonSchema }: { jsonSchema: Json }): void {
  if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  if (jsonSchema.minimum === -SAFE) delete jsonSchema.minimum;
  if (jsonSchema.maximum === SAFE) delete jsonSchema.maximum;
}

/** `#/$defs/X` → `#/components/schemas/X`, everywhere in `node`. */
function rewriteRefs<T>(node: T): T {
  if (Array.isArray(node)) return node.map(rewriteRefs) as T;
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/') ? SCHEMA_REF + value.slice('#/$defs/'.length) : rewriteRefs(value),
    ]),
  ) as T;
}

/**
 * Converts zod schemas to JSON Schema, collecting every schema with an `id` into `schemas` (the
 * document's components). Throws when one id stands for two different JSON Schemas (say, a schema
 * whose input and output differ, used both ways: give each side its own id).
 */
export class SchemaCollector {
  readonly schemas: Record<string, Json> = {};

  json(schema: z.ZodType, io: 'input' | 'output', where: string): Json {
    const { $schema: _, $defs, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any', override: tidy }) as Json & { $defs?: Record<string, Json> };
    for (const [id, def] of Object.entries($defs ?? {})) {
      const fixed = rewriteRefs(def);
      const known = this.schemas[id];
      if (known !== undefined && !isDeepStrictEqual(known, fixed)) {
        throw new Error(`openapi: schema ${id} (used by ${where}, as ${io}) differs from an earlier use of the same id`);
      }
      this.schemas[id] = fixed;
    }
    return rewriteRefs(json);
  }

  /** OpenAPI parameters (`in`: path or query) from a zod object schema; a property's description becomes the parameter's. */
  parameters(where: 'path' | 'query', schema: z.ZodType, opId: string): Json[] {
    const json = this.json(schema, 'input', opId);
    if (json.type !== 'object' || typeof json.properties !== 'object') throw new Error(`openapi: ${opId}: ${where} parameters must be a zod object`);
    const required = new Set((json.required as string[] | undefined) ?? []);
    return Object.entries(json.properties as Record<string, Json>).map(([name, { description, ...property }]) => ({
      name,
      in: where,
      required: where === 'path' || required.has(name),
      schema: property,
      ...(typeof description === 'string' ? { description } : {}),
    }));
  }
}

// ─── errors, security ────────────────────────────────────────────────────────────────────────────

const ERROR_RESPONSES: Record<number, [name: string, description: string, headers?: Json]> = {
  400: ['Invalid', 'invalid (code `invalid`): a parameter or the body is wrong; the message names the field'],
  401: [
    'Unauthenticated',
    'no credential, or one that is not valid (code `unauthenticated`)',
    { 'WWW-Authenticate': { description: 'Bearer realm="pcapmesh" (when a bearer credential was missing or bad)', schema: { type: 'string' } } },
  ],
  403: ['Forbidden', "the caller's role falls short of the operation's permission (code `forbidden`)"],
  404: ['NotFound', 'no such item (code `not_found`)'],
  409: ['Conflict', 'conflicts with what exists (code `conflict`); an upload chunk at the wrong offset carries `error.received`'],
  413: ['TooLarge', 'the request body is larger than the body limit (default 1 MiB; code `too_large`)'],
  422: ['Unprocessable', 'the uploaded file does not match its declared SHA-256: the upload was reset to 0 (code `invalid`)'],
  426: ['UpgradeRequired', 'a plain request to a WebSocket endpoint (code `invalid`)'],
  429: [
    'Throttled',
    'too many attempts; come back later (code `throttled`)',
    { 'Retry-After': { description: 'seconds to wait', schema: { type: 'integer' } } },
  ],
  503: ['Unavailable', 'a part the operation needs is not available now (code `unavailable`)'],
  500: ['Internal', 'unexpected failure, logged with the request id (code `internal`)'],
};

const SECURITY_SCHEMES: Record<string, Json> = {
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
  taskToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A task’s upload token: the JWT the collector puts in the task command (`upload.token`), valid for that task’s upload only, for jobs.uploadTokenMinutes after the window’s end or the dispatch.',
  },
};

// ─── operations ──────────────────────────────────────────────────────────────────────────────────

const whoReaches = (level: Permission): string =>
  level === 'public'
    ? 'anyone, no credential'
    : level === 'task'
      ? 'the agent holding this task’s upload token; no user credential'
      : `roles ${ROLES.filter((role) => roleAllows(role, level)).join(', ')}`;

function securityOf(op: OperationSpec): Json[] {
  if (op.permission === 'public') return [];
  if (op.permission === 'task') return [{ taskToken: [] }];
  return op.usersOnly ? [{ accessToken: [] }] : [{ accessToken: [] }, { apiToken: [] }];
}

function responseObject(response: ResponseSpec, collect: SchemaCollector, where: string): Json {
  return {
    description: response.description,
    ...(response.headers ? { headers: response.headers } : {}),
    ...(response.schema
      ? { content: { 'application/json': { schema: collect.json(response.schema, 'output', where) } } }
      : response.content
        ? { content: withSchemas(response.content, collect, where) }
        : {}),
  };
}

/**
 * `node` with every zod schema in it replaced by its JSON Schema: raw `content`, `parameters` and
 * `extensions` may carry zod schemas (the live feed's messages, a download's JSON alternative).
 */
function withSchemas(node: unknown, collect: SchemaCollector, where: string, io: 'input' | 'output' = 'output'): unknown {
  if (node instanceof z.ZodType) return collect.json(node, io, where);
  if (Array.isArray(node)) return node.map((item) => withSchemas(item, collect, where, io));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withSchemas(value, collect, where, io)]));
}

function toOperation(op: OperationSpec, collect: SchemaCollector): Json {
  if (!TAGS.some((tag) => tag.name === op.tag)) throw new Error(`openapi: ${op.id} has tag ${op.tag}, which document.ts TAGS does not list`);
  const errors = new Set(op.errors ?? []);
  if (op.permission !== 'public') errors.add(401);
  if (op.usersOnly || (op.permission !== 'public' && op.permission !== 'read')) errors.add(403);
  if (op.body) errors.add(413);
  errors.add(500);
  const permissionLine =
    `Permission: \`${op.permission}\` (${whoReaches(op.permission)}).` + (op.usersOnly ? ' A user’s access JWT only: an API token gets 403.' : '');
  const parameters = [
    ...(op.params ? collect.parameters('path', op.params, op.id) : []),
    ...(op.query ? collect.parameters('query', op.query, op.id) : []),
    ...(withSchemas(op.parameters ?? [], collect, op.id, 'input') as Json[]),
  ];
  const body = op.body
    ? 'schema' in op.body
      ? {
          required: op.body.required ?? true,
          ...(op.body.description ? { description: op.body.description } : {}),
          content: { 'application/json': { schema: collect.json(op.body.schema, 'input', op.id) } },
        }
      : { required: true, description: op.body.description, content: withSchemas(op.body.content, collect, op.id, 'input') }
    : undefined;
  const responses: Json = {};
  for (const [status, response] of Object.entries(op.responses)) responses[status] = responseObject(response, collect, op.id);
  for (const status of [...errors].sort((a, b) => a - b)) {
    const known = ERROR_RESPONSES[status];
    if (!known) throw new Error(`openapi: ${op.id} names status ${status}, which has no error response`);
    responses[String(status)] = { $ref: `#/components/responses/${known[0]}` };
  }
  return {
    operationId: op.id,
    tags: [op.tag],
    summary: op.summary,
    description: op.description ? `${permissionLine}\n\n${op.description}` : permissionLine,
    'x-permission': op.permission,
    security: securityOf(op),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
    ...(op.extensions ? (withSchemas(op.extensions, collect, op.id) as Json) : {}),
  };
}

/**
 * The document of `operations` (the app's, in mounting order; see createRoute), with paths under
 * `prefix` (the app's API_PREFIX, '/api/v1') and `version` the collector's version. Throws on an
 * operation documented twice, an unknown tag or error status, or one component id used for two
 * different schemas.
 */
export function openApiDocument(operations: readonly OperationSpec[], opts: { version: string; prefix: string }): OpenApiDocument {
  const collect = new SchemaCollector();
  const errorContent = { 'application/json': { schema: collect.json(ErrorSchema, 'output', 'errors') } };
  const paths: OpenApiDocument['paths'] = {};
  const ordered = [...operations].sort((a, b) => TAGS.findIndex((t) => t.name === a.tag) - TAGS.findIndex((t) => t.name === b.tag));
  for (const op of ordered) {
    const item = (paths[opts.prefix + op.path] ??= {});
    if (item[op.method]) throw new Error(`openapi: ${op.method.toUpperCase()} ${op.path} documented twice`);
    item[op.method] = toOperation(op, collect);
  }
  const responses = Object.fromEntries(
    Object.values(ERROR_RESPONSES).map(([name, description, headers]) => [name, { description, ...(headers ? { headers } : {}), content: errorContent }]),
  );
  const used = new Set(ordered.map((op) => op.tag));
  return {
    openapi: '3.1.1',
    info: {
      title: 'pcapmesh collector API',
      version: opts.version,
      description:
        'The REST API of the pcapmesh collector: the sensor fleet, users and sessions, administration, and a WebSocket live feed. ' +
        'Authenticate with `Authorization: Bearer <token>`: a user’s access JWT (POST /api/v1/login) or an integrator’s API token. ' +
        'Each operation states its permission level in `x-permission` (public, read, analyst, download, admin; task for agents’ uploads) and in its description. ' +
        'Errors are `{ "error": { "code", "message" } }` with the matching HTTP status.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: TAGS.filter((tag) => used.has(tag.name)),
    paths,
    components: { schemas: collect.schemas, responses, securitySchemes: SECURITY_SCHEMES },
  };
}
