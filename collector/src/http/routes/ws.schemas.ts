/**
 * The live feed's server messages (routes/ws.ts): the hello, then the domain events it forwards
 * (http/live-feed.ts), each tied to its type with `mirrors`. Documented under the operation's
 * `x-websocket.serverMessages`.
 */
import { z } from 'zod';
import { JOB_STATUSES, TASK_STATES } from '@pcapmesh/shared/wire';
import type { JobStatusEvent, SensorHealthEvent, SensorStatusEvent, TaskProgressEvent } from '../../domain/events.js';
import { int, mirrors, oneOf, orNull, time } from '../openapi/kit.js';
import { taskViewSchema } from './jobs.schemas.js';

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

export const JobStatusEventSchema = mirrors<JobStatusEvent>()(
  z
    .strictObject({
      type: z.literal('job.status'),
      job: z.string(),
      event: z.enum(['submitted', 'progress', ...JOB_STATUSES]).describe('the new state, or submitted / progress (at most once a second per job)'),
      status: z.enum(JOB_STATUSES),
      owner: z.string().describe("the owner's name (username, or token:<label>), for display"),
      ownerId: orNull(z.string()).describe('the owning principal, user:{id} or token:{id} (GET /me `id`); null once it is deleted'),
      name: orNull(z.string()),
      window: z.strictObject({ from: z.string(), to: z.string() }),
      tasks: z.strictObject({ total: int, done: int, failed: int, running: int }),
      packets: int.describe('matched so far, or merged'),
      bytes: int,
      result: z.strictObject({ fileBytes: int, sha256: z.string(), packets: int }).optional().describe('with complete and partial'),
      reason: z.string().optional().describe('with partial, failed and cancelled: names each sensor that failed or was skipped'),
      at: time,
    })
    .meta({ id: 'JobStatusEvent' }),
);

export const TaskProgressEventSchema = mirrors<TaskProgressEvent>()(
  z
    .strictObject({
      type: z.literal('task.progress'),
      job: z.string(),
      task: z.string(),
      sensor: z.string(),
      status: z.enum(['pending', ...TASK_STATES]),
      attempt: int,
      reason: orNull(z.string()),
      progress: taskViewSchema.shape.progress,
      at: time,
    })
    .meta({ id: 'TaskProgressEvent', description: 'every state change of a task, and its progress at most once a second' }),
);

/** Any message the server sends on the live feed. */
export const LiveMessageSchema = z.discriminatedUnion('type', [
  LiveHelloSchema,
  SensorStatusEventSchema,
  SensorHealthEventSchema,
  JobStatusEventSchema,
  TaskProgressEventSchema,
]);
