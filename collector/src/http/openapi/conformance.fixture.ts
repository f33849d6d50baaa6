/**
 * Test helpers: does a real answer match what the document says? Two independent checks —
 *
 *   - `jsonSchemaProblems(doc, schema, value)`: against the served document's JSON Schema (the
 *     subset of 2020-12 that z.toJSONSchema emits: $ref, anyOf/oneOf, const, enum, type (one or a
 *     list), string/number bounds, pattern, date-time, items, properties, required,
 *     additionalProperties). Catches a generator that documents something other than the schema.
 *   - `zodProblems(op, status, body)`: against the operation's own zod response schema (strict
 *     objects: a field too many is a problem, as is one missing).
 *
 * Each returns the problems as "$.path: what" lines, none when the value conforms.
 */
import type { OpenApiDocument } from './document.js';
import { ErrorSchema } from './kit.js';
import type { Json, OperationSpec } from './operation.js';

/** The value a local `#/…` JSON pointer names, or undefined. */
export function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Every `$ref` in `node`, with where it is. */
export function refsIn(node: unknown, at = '#', out: { at: string; ref: string }[] = []): { at: string; ref: string }[] {
  if (Array.isArray(node)) node.forEach((v, i) => refsIn(v, `${at}/${i}`, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push({ at, ref: value });
      else refsIn(value, `${at}/${key}`, out);
    }
  }
  return out;
}

const kindOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;

/**
 * Checks `value` against `schema` (refs resolved in `doc`). `strict`: an object may hold only the
 * properties its schema lists unless the schema allows more (`additionalProperties` true or a
 * schema) — the generated response schemas say `additionalProperties: false` anyway.
 */
export function jsonSchemaProblems(doc: OpenApiDocument, schema: Json, value: unknown, opts: { strict: boolean } = { strict: true }, at = '$'): string[] {
  const again = (s: Json, v: unknown, where: string) => jsonSchemaProblems(doc, s, v, opts, where);
  if (typeof schema.$ref === 'string') {
    const target = resolvePointer(doc, schema.$ref);
    if (target === undefined) return [`${at}: unresolved ${schema.$ref}`];
    return again(target as Json, value, at);
  }
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const options = (schema.anyOf ?? schema.oneOf) as Json[];
    const passing = options.filter((option) => again(option, value, at).length === 0).length;
    if (schema.oneOf ? passing !== 1 : passing === 0) return [`${at}: matches ${passing} of ${options.length} alternatives`];
    return [];
  }
  if ('const' in schema && value !== schema.const) return [`${at}: expected ${JSON.stringify(schema.const)}`];
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not one of ${schema.enum.join(', ')}`];
  const types = schema.type === undefined ? undefined : ([] as string[]).concat(schema.type as string | string[]);
  const kind = kindOf(value);
  if (types !== undefined && !types.includes(kind) && !(types.includes('number') && kind === 'integer'))
    return [`${at}: expected ${types.join(' or ')}, got ${kind}`];
  const problems: string[] = [];
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) problems.push(`${at}: shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) problems.push(`${at}: longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${at}: does not match ${schema.pattern}`);
    if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) problems.push(`${at}: not a date-time`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${at}: below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${at}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push(`${at}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => problems.push(...again(schema.items as Json, item, `${at}[${i}]`)));
  }
  if (kind === 'object') {
    const record = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Json>;
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in record)) problems.push(`${at}.${key}: missing`);
    for (const [key, v] of Object.entries(record)) {
      if (properties[key]) problems.push(...again(properties[key], v, `${at}.${key}`));
      else if (typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null) {
        problems.push(...again(schema.additionalProperties as Json, v, `${at}.${key}`));
      } else if (schema.additionalProperties === false || (opts.strict && schema.additionalProperties === undefined && schema.properties !== undefined)) {
        problems.push(`${at}.${key}: not in the schema`);
      }
    }
  }
  return problems;
}

/** The JSON Schema the document gives for `op`'s response `status` (application/json), following a response $ref. */
export function documentedResponse(doc: OpenApiDocument, prefix: string, op: Pick<OperationSpec, 'method' | 'path'>, status: number): Json | undefined {
  const operation = doc.paths[prefix + op.path]?.[op.method];
  if (!operation) throw new Error(`${op.method.toUpperCase()} ${op.path} is not documented`);
  let response = (operation.responses as Record<string, Json>)[String(status)];
  if (!response) throw new Error(`${op.method.toUpperCase()} ${op.path} documents no status ${status}`);
  if (typeof response.$ref === 'string') response = resolvePointer(doc, response.$ref) as Json;
  return (response.content as Record<string, { schema: Json }> | undefined)?.['application/json']?.schema;
}

/** Problems of `body` against the zod schema `op` declares for `status` (ErrorSchema for an error status); an undeclared success status is one. */
export function zodProblems(op: OperationSpec, status: number, body: unknown): string[] {
  const declared = op.responses[status];
  if (!declared && status < 400) return [`status ${status} is not one op ${op.id} declares`];
  const schema = declared ? declared.schema : ErrorSchema;
  if (!schema) return [];
  const result = schema.safeParse(body);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const keys = 'keys' in issue && Array.isArray(issue.keys) ? ` (${issue.keys.join(', ')})` : '';
    return `$${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${issue.message}${keys}`;
  });
}
