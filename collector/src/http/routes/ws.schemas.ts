/**
 * The live feed's server messages (routes/ws.ts): the hello, then the domain events it forwards
 * (http/live-feed.ts), each tied to its type with `mirrors`. Documented under the operation's
 * `x-websocket.serverMessages`.
 */
import { z } from 'zod';
import type { SensorHealthEvent, SensorStatusEvent } from '../../domain/events.js';
import { int, mirrors, oneOf, time } from '../openapi/kit.js';

export const LiveHelloSchema = z.strictObject({ type: z.literal('hello'), time }).meta({ id: 'LiveHello' });

export const SensorStatusEventSchema = mirrors<SensorStatusEvent>()(
  z
    .strictObject({
      type: z.literal('sensor.status'),
      sensor: z.string(),
      status: oneOf(['online', 'offline', 'degraded']),
      previous: oneOf(['online', 'offline', 'degraded', 'unknown']),
      reason: z.string(),
      at: time,
    })
    .meta({ id: 'SensorStatusEvent' }),
);

export const SensorHealthEventSchema = mirrors<SensorHealthEvent>()(
  z
    .strictObject({
      type: z.literal('sensor.health'),
      sensor: z.string(),
      at: time.describe("the agent's sending time of the sample"),
      cpu: z.number(),
      memoryUsed: z.number(),
      memoryTotal: z.number(),
      load1: z.number(),
      disks: z.array(z.strictObject({ mount: z.string(), size: int, used: int, usedPercent: z.number() })),
    })
    .meta({ id: 'SensorHealthEvent' }),
);

/** Any message the server sends on the live feed. */
export const LiveMessageSchema = z.discriminatedUnion('type', [LiveHelloSchema, SensorStatusEventSchema, SensorHealthEventSchema]);
