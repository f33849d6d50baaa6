/**
 * `mirrors<View>()` is a compile-time check: the `@ts-expect-error` lines below fail typecheck the
 * day it stops catching a schema that drifted from its view type (a field too many or too few,
 * optional ones included, or a type changed). At run time it hands the schema back unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { mirrors } from './kit.js';

interface View {
  name: string;
  size: number;
  note?: string;
}

test('mirrors accepts a schema that agrees with its view and refuses (at compile time) one that drifted', () => {
  const agrees = z.strictObject({ name: z.string(), size: z.number(), note: z.string().optional() });
  assert.equal(mirrors<View>()(agrees), agrees);

  // @ts-expect-error a field the view lacks
  mirrors<View>()(z.strictObject({ name: z.string(), size: z.number(), note: z.string().optional(), extra: z.boolean() }));
  // @ts-expect-error a required field missing
  mirrors<View>()(z.strictObject({ name: z.string(), note: z.string().optional() }));
  // @ts-expect-error an optional field missing
  mirrors<View>()(z.strictObject({ name: z.string(), size: z.number() }));
  // @ts-expect-error a type changed
  mirrors<View>()(z.strictObject({ name: z.string(), size: z.string(), note: z.string().optional() }));
  // @ts-expect-error nullable where the view says string
  mirrors<View>()(z.strictObject({ name: z.string().nullable(), size: z.number(), note: z.string().optional() }));
});
