/**
 * zod schemas of the /jobs routes (routes/jobs.ts): what a client sends (validated here, then
 * handed to JobsApi) and what it gets back (the views of domain/jobs/jobs.types.ts). openapi.ts
 * derives the document from these same schemas (`z.toJSONSchema`, io 'input' for requests and
 * 'output' for responses), and the route tests parse real answers with the response schemas, so a
 * view that grows or loses a field fails a test instead of drifting from the document.
 *
 * Times in a request are ISO 8601 with a zone (fractional seconds kept to the nanosecond) or epoch
 * milliseconds (a JSON number or a decimal string, fraction allowed); they become bigint
 * nanoseconds since the epoch.
 */
import { z } from 'zod';
import { JOB_STATUSES, TASK_STATES, TRUNCATION_REASONS } from '@pcapmesh/shared/wire';
import type {
  EvidenceManifest,
  JobDetail,
  JobFilterInput,
  JobLimits,
  JobPage,
  JobPlan,
  JobRequest,
  JobTargets,
  JobView,
  PlanEntry,
  TaskView,
} from '../../domain/jobs/jobs.types.js';
import { int, mirrors, orNull, time } from '../openapi/kit.js';
import { instant } from '../params.js';
import { analysisReportSchema } from './jobs-analysis.schemas.js';

export { analysisReportSchema };

// ─── times ───────────────────────────────────────────────────────────────────────────────────────

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})$/;
const EPOCH_MS = /^(\d{1,15})(?:\.(\d+))?$/;
const NS_PER_MS = 1_000_000n;

/**
 * Nanoseconds since the epoch of `text` (ISO 8601 with a zone, or epoch milliseconds), or a
 * sentence saying what is wrong with it.
 *
 * @example
 *   parseInstantNs('2026-01-02T03:04:05.123456789Z') // 1767323045123456789n
 *   parseInstantNs('1767323045123.5')                 // 1767323045123500000n
 */
export function parseInstantNs(text: string): bigint | string {
  const epoch = EPOCH_MS.exec(text);
  if (epoch) {
    const fraction = epoch[2] ?? '';
    if (fraction.length > 6) return `${JSON.stringify(text)}: epoch milliseconds take at most 6 fractional digits (nanoseconds)`;
    return BigInt(epoch[1]!) * NS_PER_MS + BigInt(fraction.padEnd(6, '0') || '0');
  }
  const iso = ISO.exec(text);
  if (!iso) return `expected an ISO 8601 time with zone (2026-01-02T03:04:05.123456789Z) or epoch milliseconds, got ${JSON.stringify(text)}`;
  const [, y, mo, d, h, mi, s = '00', fraction = '', zone] = iso;
  if (fraction.length > 9) return `${JSON.stringify(text)}: at most 9 fractional digits (nanoseconds)`;
  const calendar = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const valid =
    calendar.getUTCFullYear() === Number(y) &&
    calendar.getUTCMonth() === Number(mo) - 1 &&
    calendar.getUTCDate() === Number(d) &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 60;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${zone}`);
  if (!valid || Number.isNaN(ms)) return `${JSON.stringify(text)} is not a valid time`;
  return BigInt(ms) * NS_PER_MS + BigInt(fraction.padEnd(9, '0') || '0');
}

/** A request time → bigint nanoseconds (see parseInstantNs). */
export const instantNs = z
  .union([z.string().max(64), z.number().nonnegative()])
  .describe('ISO 8601 with a zone (2026-01-02T03:04:05.123456789Z; nanoseconds kept) or epoch milliseconds (number or decimal string)')
  .transform((value, ctx) => {
    const ns = parseInstantNs(typeof value === 'number' ? String(value) : value);
    if (typeof ns === 'string') {
      ctx.addIssue({ code: 'custom', message: ns });
      return z.NEVER;
    }
    return ns;
  });

// ─── request: POST /jobs ─────────────────────────────────────────────────────────────────────────

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).max(1_000)]);
const entry = z.string().min(1).max(128);
const portEntry = z.union([z.number().int().min(0).max(65_535), entry]);

/** The structured filter (shared/src/pcap/filter/structured.ts); the service compiles and checks each entry. */
export const structuredFilterSchema = z
  .strictObject({
    ip: oneOrMany(entry).optional().describe('addresses or CIDRs, either direction (host A or net N)'),
    src: oneOrMany(entry).optional().describe('source addresses or CIDRs'),
    dst: oneOrMany(entry).optional().describe('destination addresses or CIDRs'),
    ports: oneOrMany(portEntry).optional().describe('ports, names (https) or ranges "a-b", either direction'),
    srcPorts: oneOrMany(portEntry).optional(),
    dstPorts: oneOrMany(portEntry).optional(),
    protocol: z
      .union([z.string().min(1).max(16), z.number().int().min(0).max(255)])
      .optional()
      .describe('tcp, udp, sctp, icmp, icmp6, ip, ip6, arp, or a protocol number'),
    vlan: z.number().int().min(0).max(4095).optional(),
    hosts: oneOrMany(entry).optional().describe('addresses; with nets one group: packets to or from any of them (see direction)'),
    nets: oneOrMany(entry).optional().describe('CIDRs; with hosts one group'),
    direction: z.enum(['src', 'dst', 'either']).optional().describe('the side hosts, nets and ports must be on; default either'),
  })
  .meta({ id: 'StructuredFilter', description: 'Every present field must hold; within a field any entry may match.' });

const STRUCTURED_KEYS = Object.keys(structuredFilterSchema.shape);

/** `{ expression }` (tcpdump syntax) or the structured fields; not both. */
export const filterInput = z
  .strictObject({ expression: z.string().max(4096).optional().describe('a filter in tcpdump syntax; "" matches everything'), ...structuredFilterSchema.shape })
  .describe(
    'Either `{ "expression": "host 10.0.0.1 and tcp port 443" }` or the structured fields (hosts, nets, ports, protocol, direction, and ip, src, dst, srcPorts, dstPorts, vlan); `{}` matches everything.',
  )
  .superRefine((value, ctx) => {
    if (value.expression === undefined) return;
    const mixed = STRUCTURED_KEYS.filter((key) => key in value);
    if (mixed.length > 0) ctx.addIssue({ code: 'custom', message: `give either expression or structured fields, not both (also got ${mixed.join(', ')})` });
  })
  .transform((value): JobFilterInput => (value.expression !== undefined ? { expression: value.expression } : value));

const sensorList = z.array(z.string().min(1).max(63)).min(1).max(1_000);

/** Exactly one of sensors, locations, auto. */
export const targetsInput = z
  .strictObject({
    sensors: sensorList.optional().describe('these sensors by name'),
    locations: z.array(z.string().min(1).max(256)).min(1).max(1_000).optional().describe('every sensor at these locations'),
    auto: z.literal(true).optional().describe('every sensor whose reported availability overlaps the window'),
  })
  .describe('Exactly one of `sensors`, `locations` or `auto: true`.')
  .transform((value, ctx): JobTargets => {
    const given = (['sensors', 'locations', 'auto'] as const).filter((key) => value[key] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', message: given.length === 0 ? 'name sensors, locations or auto: true' : `give only one of ${given.join(', ')}` });
      return z.NEVER;
    }
    if (value.sensors) return { sensors: value.sensors };
    if (value.locations) return { locations: value.locations };
    return { auto: true };
  });

const positive = z.number().int().positive();

export const limitsInput = z.strictObject({
  maxBytes: positive.optional().describe('stop each sensor after this many captured bytes (result marked truncated)'),
  maxPackets: positive.optional(),
  timeoutSeconds: positive.optional().describe('the job ends with what it has this long after submission'),
});

// eslint-disable-next-line no-control-regex -- the point of the pattern is to refuse control characters
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u001f\u007f-\u009f]*$/;

export const submitBody = z
  .strictObject({
    name: z.string().min(1).max(256).regex(NO_CONTROL_CHARACTERS, 'no control characters (a name is shown in terminals and logs)').optional(),
    window: z.strictObject({ from: instantNs, to: instantNs }).describe('[from, to): packets with from ≤ time < to; `to` may lie in the future'),
    filter: filterInput,
    targets: targetsInput,
    limits: limitsInput.optional(),
    dryRun: z.boolean().optional().describe('plan only: coverage and estimates, nothing is created'),
  })
  .meta({ id: 'JobRequest', description: 'A capture job: window, filter, targets, optional limits; `dryRun` plans only.' })
  .refine((body) => body.window.to > body.window.from, { message: 'must be after from', path: ['window', 'to'] })
  .transform((body): JobRequest => ({
    ...(body.name !== undefined ? { name: body.name } : {}),
    window: body.window,
    filter: body.filter,
    targets: body.targets,
    ...(body.limits !== undefined ? { limits: body.limits } : {}),
    ...(body.dryRun !== undefined ? { dryRun: body.dryRun } : {}),
  }));

// ─── request: parameters ─────────────────────────────────────────────────────────────────────────

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const jobParams = z.object({ id: z.string().regex(JOB_ID, 'not a job id (a UUID, lower case)').describe('job id (UUID)') });
export const taskParams = jobParams.extend({
  task: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'not a task id')
    .describe('task id (one per sensor: GET /jobs/{id}/tasks)'),
});

export const listQuery = z.object({
  status: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === '') return undefined;
      const values = text.split(',');
      const bad = values.filter((v) => !(JOB_STATUSES as readonly string[]).includes(v));
      if (bad.length > 0) {
        ctx.addIssue({ code: 'custom', message: `unknown status ${bad.join(', ')} (one or more of ${JOB_STATUSES.join(', ')}, comma-separated)` });
        return z.NEVER;
      }
      return values as (typeof JOB_STATUSES)[number][];
    })
    .describe(`jobs in any of these states, comma-separated (${JOB_STATUSES.join(', ')})`),
  owner: z.string().min(1).max(128).optional().describe('jobs of this owner (username, or token:<label>)'),
  from: instant.optional().describe('created at or after; ISO 8601 with a zone or epoch milliseconds'),
  to: instant.optional().describe('created before; ISO 8601 with a zone or epoch milliseconds'),
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('jobs per page, newest first'),
  cursor: z.string().min(1).max(512).optional().describe('the `next` of the previous page'),
});

export const manifestQuery = z.object({
  format: z.enum(['json', 'jws']).default('json').describe('json: { jws, manifest }; jws: the compact JWS alone (application/jose)'),
});

// ─── responses: the views of domain/jobs/jobs.types.ts ───────────────────────────────────────────

const count = int.nonnegative();
const decimal = z.string().regex(/^\d+$/);
const sha256 = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .describe('SHA-256, hex');

const windowView = z.strictObject({
  from: time,
  to: time,
  fromNs: decimal.describe('nanoseconds since the epoch (decimal string)'),
  toNs: decimal.describe('nanoseconds since the epoch (decimal string)'),
});

export const limitsView = mirrors<JobLimits>()(
  z
    .strictObject({ maxBytes: count, maxPackets: count, timeoutSeconds: count })
    .meta({ id: 'JobLimits', description: 'per sensor: bytes and packets; the job: seconds until it ends with what it has' }),
);

export const planEntrySchema = mirrors<PlanEntry>()(
  z
    .strictObject({
      sensor: z.string(),
      location: orNull(z.string()),
      status: z.enum(['online', 'offline', 'degraded', 'unknown']),
      coverage: z.strictObject({
        fraction: z.number().min(0).max(1).describe('share of the window the reported availability covers'),
        gaps: z.array(z.strictObject({ from: time, to: time })),
      }),
      bytesInWindow: count.describe('bytes of the capture files overlapping the window'),
      estimate: orNull(
        z.strictObject({
          files: count,
          indexedFiles: count,
          bytesToRead: count,
          matchUpperBound: orNull(z.strictObject({ packets: count, bytes: count })),
        }),
      ).describe("the sensor's own estimate (dry run only, when it answered in time)"),
      note: z.string().optional().describe('why the sensor gets no task, or no estimate'),
      included: z.boolean().describe('false: planned but skipped (no availability overlaps the window)'),
    })
    .meta({ id: 'PlanEntry' }),
);

export const planSchema = mirrors<JobPlan>()(
  z
    .strictObject({
      window: windowView,
      filter: z.string().describe('the canonical expression the sensors run'),
      limits: limitsView,
      scheduled: z.boolean().describe('the window lies (partly) in the future: sensors wait for it to close'),
      sensors: z.array(planEntrySchema),
    })
    .meta({ id: 'JobPlan' }),
);

const taskStatus = z.enum(['pending', ...TASK_STATES]);

export const taskViewSchema = mirrors<TaskView>()(
  z
    .strictObject({
      id: z.string(),
      job: z.string(),
      sensor: z.string(),
      status: taskStatus,
      reason: orNull(z.string()),
      attempt: count,
      dispatchedAt: orNull(time),
      startedAt: orNull(time),
      finishedAt: orNull(time),
      waitUntil: orNull(time),
      lastProgressAt: orNull(time),
      progress: orNull(
        z.strictObject({
          filesScanned: count,
          filesTotal: count,
          packets: count,
          bytes: count,
          bytesScanned: count.optional(),
          bytesTotal: count.optional(),
          uploaded: count.optional(),
          uploadTotal: count.optional(),
        }),
      ),
      result: orNull(z.strictObject({ packets: count, bytes: count, fileBytes: count, sha256, truncated: orNull(z.enum(TRUNCATION_REASONS)) })),
      upload: z.strictObject({ size: orNull(count), received: count, complete: z.boolean() }),
    })
    .meta({ id: 'TaskView' }),
);

export const jobFilterView = mirrors<JobFilterInput>()(
  z.union([z.strictObject({ expression: z.string() }), structuredFilterSchema]).meta({ id: 'JobFilter', description: 'the filter as submitted' }),
);

const targetsView = mirrors<JobTargets>()(
  z
    .union([z.strictObject({ sensors: z.array(z.string()) }), z.strictObject({ locations: z.array(z.string()) }), z.strictObject({ auto: z.literal(true) })])
    .meta({ id: 'JobTargets' }),
);

const jobViewShape = {
  id: z.string(),
  name: orNull(z.string()),
  owner: z.string().describe('username, or token:<label>'),
  ownerId: z.string().nullable().describe('the owning principal: user:{id} or token:{id} (ownership is by it; null when the owner is gone)'),
  status: z.enum(JOB_STATUSES),
  reason: orNull(z.string()).describe('why it is partial, failed or cancelled (names each sensor)'),
  window: windowView,
  filter: jobFilterView,
  expression: z.string().describe('the canonical expression the sensors run'),
  targets: targetsView,
  limits: limitsView,
  createdAt: time,
  startedAt: orNull(time),
  finishedAt: orNull(time),
  deadlineAt: time,
  tasks: z.strictObject({ total: count, pending: count, running: count, done: count, failed: count, cancelled: count, skipped: count }),
  packets: count.describe('matched so far, or merged'),
  bytes: count,
  result: orNull(
    z.strictObject({
      fileBytes: count,
      sha256,
      packets: count,
      bytes: count,
      duplicatesRemoved: count,
      fileName: z.string().describe('suggested download name'),
    }),
  ),
  expiresAt: orNull(time),
  expired: z.boolean().describe('the result files were deleted by expiry (metadata stays)'),
};

export const jobViewSchema = mirrors<JobView>()(z.strictObject(jobViewShape).meta({ id: 'JobView' }));

export const jobDetailSchema = mirrors<JobDetail>()(
  z
    .strictObject({ ...jobViewShape, taskList: z.array(taskViewSchema), plan: planSchema })
    .meta({ id: 'JobDetail', description: 'a job with its tasks and plan' }),
);

export const jobPageSchema = mirrors<JobPage>()(
  z
    .strictObject({ jobs: z.array(jobViewSchema), next: orNull(z.string()).describe('cursor of the next (older) page; null at the end') })
    .meta({ id: 'JobPage' }),
);
export const taskListSchema = z.strictObject({ tasks: z.array(taskViewSchema) });
export const dryRunSchema = z.strictObject({ plan: planSchema });
export const submittedSchema = z.strictObject({ job: jobDetailSchema, plan: planSchema });

export const evidenceManifestSchema = mirrors<EvidenceManifest>()(
  z
    .strictObject({
      type: z.literal('pcapmesh.evidence'),
      version: z.literal(1),
      job: z.string(),
      name: orNull(z.string()),
      requester: z.string(),
      window: windowView,
      filter: z.string(),
      submittedAt: time,
      completedAt: time,
      status: z.enum(JOB_STATUSES),
      sensors: z.array(
        z.strictObject({
          sensor: z.string(),
          task: z.string(),
          status: taskStatus,
          packets: count,
          bytes: count,
          fileBytes: count,
          sha256: orNull(sha256),
          truncated: orNull(z.string()),
        }),
      ),
      merged: z.strictObject({ fileName: z.string(), fileBytes: count, sha256, packets: count, duplicatesRemoved: count }),
      software: z.strictObject({ name: z.literal('pcapmesh'), version: z.string() }),
    })
    .meta({ id: 'EvidenceManifest', description: 'the signed payload: the job, each sensor result and the merged file, with SHA-256s' }),
);

export const manifestSchema = z
  .strictObject({
    jws: z.string().describe('the compact JWS (EdDSA) whose payload is `manifest`'),
    manifest: evidenceManifestSchema,
  })
  .meta({ id: 'SignedManifest' });

/** GET /jobs/manifest-key: the Ed25519 public key(s) as a JWK Set. */
export const manifestKeySetSchema = z
  .strictObject({
    keys: z.array(
      z.strictObject({
        kty: z.literal('OKP'),
        crv: z.literal('Ed25519'),
        x: z.string().describe('the public key, base64url'),
        kid: z.string().describe('RFC 7638 thumbprint; the manifest JWS header names it'),
        alg: z.literal('EdDSA'),
        use: z.literal('sig'),
      }),
    ),
  })
  .meta({ id: 'ManifestKeySet' });
