/**
 * Building blocks of the route modules' response schemas (routes/*.schemas.ts): times, integers,
 * the role enum, the error body, and `mirrors<View>()`, which ties a schema to the domain view type
 * it describes so that either one drifting from the other fails typecheck.
 *
 * Response schemas are `z.strictObject`s: a real answer with a field the schema does not list fails
 * `parse` in the tests (openapi.test.ts), and the document says `additionalProperties: false`.
 * A schema that should be a named component of the document carries `.meta({ id: 'Name' })`.
 *
 * @example
 *   export const LatestHealthSchema = mirrors<LatestHealth>()(
 *     z.strictObject({ at: time.describe("the agent's sending time"), cpu: z.number(), ... }).meta({ id: 'LatestHealth' }),
 *   );
 */
import { z } from 'zod';
import { DOMAIN_ERROR_CODES } from '../../domain/errors.js';
import { ROLES } from '../../domain/accounts/roles.js';

/** An instant the server sends: ISO 8601 in UTC (`Date#toISOString()`). */
export const time = z.iso.datetime().describe('ISO 8601, UTC');

/** A whole number (counts, bytes). */
export const int = z.number().int();

/** `schema | null`. */
export const orNull = <S extends z.ZodType>(schema: S) => schema.nullable();

/** A string enum with a description. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T, description?: string) =>
  description === undefined ? z.enum(values) : z.enum(values).describe(description);

/** Per-key integer counts (`{ online: 3, offline: 1, ... }`), every key present. */
export const counts = <const K extends readonly string[]>(keys: K) =>
  z.strictObject(Object.fromEntries(keys.map((key) => [key, int])) as { [P in K[number]]: typeof int });

export const RoleSchema = z
  .enum(ROLES)
  .meta({ id: 'Role', description: 'admin, analyst or viewer (what each may do: the permission levels of the operations)' });

/** Every error response: `{ "error": { "code", "message" } }` (http/errors.ts). */
export const ErrorSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum([...DOMAIN_ERROR_CODES, 'too_large', 'internal', 'error']),
      message: z.string().describe('a sentence for people; names the field at fault for invalid input'),
      received: z.number().int().min(0).optional().describe('task uploads, 409: the bytes the collector holds; resume from there'),
    }),
  })
  .meta({ id: 'Error', description: 'Every error response: `{ "error": { "code", "message" } }` with the matching HTTP status.' });

/**
 * True when A and B are assignable to each other and have the same keys: no field missing on
 * either side (optional ones included, at the top level), no type differing.
 */
export type Agrees<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;

/**
 * Returns the schema unchanged, and fails typecheck unless its output type and `View` agree
 * (`Agrees`): a field added to or dropped from either one, or a type changed, is an error here.
 */
export function mirrors<View>() {
  return <S extends z.ZodType>(schema: S & (Agrees<z.output<S>, View> extends true ? unknown : { 'schema and view type differ': View })): S => schema;
}
