/**
 * An HTTP operation, declared once by the route module that serves it: method, path, permission,
 * the zod schemas of what a client sends (path parameters, query, JSON body) and of what it gets
 * back (per status), and the words of the OpenAPI document. The same declaration
 *
 *   - mounts the route (`route(app, op, handler)`): the permit(level) middleware first, then
 *     `usersOnly` (403 for an API token), then the parameters, query and body parsed with the op's
 *     schemas (a ZodError → 400 naming the field),
 *   - types the answer: `reply(status, body)` takes only the statuses the op declares, with the
 *     body its schema describes (a handler that drifts from the schema fails typecheck),
 *   - and is what http/openapi/document.ts turns into the OpenAPI 3.1 operation.
 *
 * @example
 *   export const getSensor = defineOperation({
 *     method: 'get', path: '/sensors/{name}', id: 'getSensor', tag: 'sensors', permission: 'read',
 *     summary: 'One sensor',
 *     params: sensorParams,
 *     responses: { 200: { description: 'the sensor', schema: SensorViewSchema } },
 *     errors: [400, 404],
 *   });
 *   route(app, getSensor, async (_c, { params, reply }) => reply(200, await sensors.get(params.name)));
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { DomainError } from '../../domain/errors.js';
import type { Permission } from '../../domain/accounts/roles.js';
import type { AppEnv } from '../env.js';
import { describeZodError } from '../errors.js';

/** A JSON Schema (2020-12, the dialect of OpenAPI 3.1) or any other OpenAPI object. */
export type Json = { [key: string]: unknown };

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/** One response of an operation. */
export interface ResponseSpec {
  description: string;
  /** The JSON body (application/json); documented with io 'output'. None: no body (204) or `content`. */
  schema?: z.ZodType;
  /** Raw OpenAPI content for other media types (an image; a WebSocket upgrade has none); a zod schema inside becomes its JSON Schema. */
  content?: Json;
  /** Raw OpenAPI response headers (Set-Cookie, ...). */
  headers?: Json;
}

/** A request body: JSON validated by `schema` (documented with io 'input'), or raw content the handler reads itself. */
export type BodySpec =
  | { schema: z.ZodType; /** Default true; false: an empty body is parsed as `{}`. */ required?: boolean; description?: string }
  | { content: Json; description: string };

export interface OperationSpec {
  method: HttpMethod;
  /** Path under the API prefix, OpenAPI form (`/sensors/{name}`); mounted as `/sensors/:name`. */
  path: string;
  /** operationId: unique, [A-Za-z][A-Za-z0-9_]*. */
  id: string;
  /** One of the tags of document.ts TAGS. */
  tag: string;
  summary: string;
  /** Extra prose; the document puts a "Permission: …" line before it. */
  description?: string;
  /** What the route enforces (auth.ts permit); documented as `x-permission`. */
  permission: Permission;
  /** Only a user's access JWT: an API token passes the permission but route() refuses it with 403 (before reading any input). */
  usersOnly?: boolean;
  /** Path parameters: a zod object whose keys are the `{…}` of `path`. Field `.describe()`s become the parameter descriptions. */
  params?: z.ZodType;
  /** Query parameters: a zod object (it may transform); field `.describe()`s become the parameter descriptions. */
  query?: z.ZodType;
  /** Other parameters (headers, or query parameters the handler reads itself), raw OpenAPI; a zod `schema` inside is converted (io 'input'). */
  parameters?: readonly Json[];
  body?: BodySpec;
  /** The success responses by status (error responses: `errors`). */
  responses: { readonly [status: number]: ResponseSpec };
  /** Error statuses besides 401/403 (from the permission), 413 (with a body) and 500 (always). */
  errors?: readonly number[];
  /** Extra `x-…` members of the operation object; a zod schema anywhere inside becomes its JSON Schema (output). */
  extensions?: Json;
}

/** Keeps the literal types of an operation (statuses, schemas) for `route()`'s typing. */
export function defineOperation<const O extends OperationSpec>(op: O): O {
  return op;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type BodyOf<O extends OperationSpec> = O['body'] extends { schema: infer S extends z.ZodType } ? z.output<S> : undefined;
type ReplyArgs<R> = R extends { schema: infer S extends z.ZodType } ? [body: z.input<S>] : [];

/** Answers with one of the op's declared statuses and the body its schema describes (none for a schema-less one). */
export type Reply<O extends OperationSpec> = <S extends keyof O['responses'] & number>(status: S, ...body: ReplyArgs<O['responses'][S]>) => Response;

/** What a handler gets besides the context: the parsed inputs and `reply`. */
export interface Input<O extends OperationSpec> {
  params: Parsed<O['params']>;
  query: Parsed<O['query']>;
  body: BodyOf<O>;
  reply: Reply<O>;
}

export type OperationHandler<O extends OperationSpec> = (c: Context<AppEnv>, input: Input<O>) => Response | Promise<Response>;

/** Mounts an operation on a route module's app and records it for the document. */
export type RouteFn = <O extends OperationSpec>(
  app: Hono<AppEnv>,
  op: O,
  handler: OperationHandler<O>,
  opts?: { /** Middleware between permit() and the handler (the WebSocket upgrade). */ before?: MiddlewareHandler<AppEnv>[] },
) => void;

/** `/sensors/{name}` → `/sensors/:name`. */
export function honoPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

async function parseBody(c: Context<AppEnv>, spec: BodySpec | undefined): Promise<unknown> {
  if (spec === undefined || !('schema' in spec)) return undefined;
  const text = await c.req.text();
  if (spec.required === false && text.trim() === '') return spec.schema.parse({});
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new DomainError('invalid', `the request body must be JSON (Content-Type: application/json)${spec.required === false ? ' or empty' : ''}`, {
      cause: err,
    });
  }
  return spec.schema.parse(value);
}

/** Problems of a JSON answer against `schema` ("path: message; ..."), or null when it conforms. */
function responseProblems(schema: z.ZodType, body: unknown): string | null {
  const result = schema.safeParse(JSON.parse(JSON.stringify(body)) as unknown);
  return result.success ? null : describeZodError(result.error);
}

/**
 * The `route` of RouteTools: mounts `op` with `permit(op.permission)` first and records it in
 * `operations` (the app's list, from which GET /openapi.json is built). Throws at start-up on an
 * operation mounted twice.
 *
 * `checkResponses` (the HTTP test fixture turns it on): every `reply()` body is parsed with its
 * response schema, and one that does not conform — a field the schema lacks, one missing, a wrong
 * type — becomes a 500 whose message names the operation and the field, so any route test over
 * the fixture fails on an answer that drifted from the document.
 */
export function createRoute(
  permit: (level: Permission) => MiddlewareHandler<AppEnv>,
  operations: OperationSpec[],
  opts: { checkResponses?: boolean } = {},
): RouteFn {
  return (app, op, handler, mount = {}) => {
    if (operations.some((known) => known.id === op.id || (known.method === op.method && known.path === op.path))) {
      throw new Error(`openapi: operation ${op.id} (${op.method.toUpperCase()} ${op.path}) mounted twice`);
    }
    operations.push(op);
    const run: MiddlewareHandler<AppEnv> = async (c) => {
      if (op.usersOnly && c.var.principal?.kind !== 'user')
        throw new DomainError('forbidden', `${op.method.toUpperCase()} ${op.path} is for users only; an API token may not use it`);
      const params = op.params?.parse(c.req.param());
      const query = op.query?.parse(c.req.query());
      const body = await parseBody(c, op.body);
      const reply = ((status: number, ...rest: unknown[]) => {
        if (rest.length === 0) return c.body(null, status as StatusCode);
        const schema = op.responses[status]?.schema;
        const problems = opts.checkResponses && schema ? responseProblems(schema, rest[0]) : null;
        if (problems !== null) throw new HTTPException(500, { message: `the ${status} answer of ${op.id} does not match its schema: ${problems}` });
        return c.json(rest[0], status as ContentfulStatusCode);
      }) as Reply<typeof op>;
      return handler(c, { params, query, body, reply } as Input<typeof op>);
    };
    app.on(op.method.toUpperCase(), honoPath(op.path), permit(op.permission), ...(mount.before ?? []), run);
  };
}
