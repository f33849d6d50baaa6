/**
 * GET /openapi.json (public): the document of every operation the app mounted (document.ts),
 * built once when this module is mounted — last, after every other route module.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { legacyDocument } from '../openapi.js';
import type { RouteTools } from '../routes/tools.js';
import { openApiDocument, TAGS, type OpenApiDocument } from './document.js';
import { defineOperation, type OperationSpec } from './operation.js';

export const getOpenApi = defineOperation({
  method: 'get', path: '/openapi.json', id: 'getOpenApi', tag: 'meta', permission: 'public',
  summary: 'This OpenAPI document',
  responses: { 200: { description: 'the document', schema: z.looseObject({ openapi: z.string() }) } },
});

/**
 * The document of `operations` plus (while routes move to defineOperation) the hand-written
 * operations of openapi.ts.
 */
export function fullDocument(operations: readonly OperationSpec[], opts: { version: string; prefix: string }): OpenApiDocument {
  const doc = openApiDocument(operations, opts);
  const legacy = legacyDocument(opts);
  for (const [path, item] of Object.entries(legacy.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const target = (doc.paths[path] ??= {});
      if (target[method as 'get']) throw new Error(`openapi: ${method.toUpperCase()} ${path} documented twice`);
      target[method as 'get'] = op;
    }
  }
  doc.components.schemas = { ...legacy.components.schemas, ...doc.components.schemas };
  const tags = new Set([...doc.tags, ...legacy.tags].map((tag) => tag.name));
  doc.tags = TAGS.filter((tag) => tags.has(tag.name));
  return doc;
}

export function openApiRoutes(deps: HttpDeps, { route }: RouteTools, prefix: string, operations: OperationSpec[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  route(app, getOpenApi, (c) => c.json(doc));
  const doc = fullDocument(operations, { version: deps.version, prefix });
  return app;
}
