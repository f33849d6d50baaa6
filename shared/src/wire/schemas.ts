/**
 * Message schemas of the wire protocol. Every agent message carries an envelope: the schema
 * version `v`, the sending time `sentAt` (ms since the epoch, the sender's clock) and `seq`, a
 * per-agent sequence number that increases by one per message and survives restarts (the spool
 * persists it), so the collector can order and de-duplicate.
 *
 * Birth and last will carry `bdSeq` (the Sparkplug B birth/death sequence): the agent increments
 * it on every connect and puts the same value in that session's birth and will. The collector
 * keeps the highest bdSeq it has seen per sensor and ignores an offline state whose bdSeq is
 * older, so a will delivered late can never mark a reconnected sensor offline.
 */
import { z } from 'zod';

/** The schema version this code writes; readers accept 1..SCHEMA_VERSION. */
export const SCHEMA_VERSION = 1;

const count = z.number().int().nonnegative();
const name = z.string().min(1).max(256);
/**
 * Values the collector stores in 32-bit integer and `real` columns: a value past them would pass
 * the schema and then fail every store, so the sensor would send the message again for ever.
 */
const int32 = count.max(2_147_483_647);
/** Smallest normal 32-bit float: PostgreSQL refuses a non-zero `real` below it ("out of range"). */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;
function storableAsReal(n: z.ZodNumber) {
  return n.refine((v) => v === 0 || Math.abs(v) >= FLOAT32_MIN_NORMAL, { message: `non-zero values below ${FLOAT32_MIN_NORMAL} do not fit a 32-bit real` });
}
const real = storableAsReal(z.number().min(-1e38).max(1e38));
/** Seconds of 0001-01-01 and 9999-12-31T23:59:59Z: what PostgreSQL timestamps and JavaScript dates both hold. */
export const MIN_TIMESTAMP_SEC = -62_135_596_800;
export const MAX_TIMESTAMP_SEC = 253_402_300_799;

export const timestampSchema = z.object({
  sec: z.number().int().min(MIN_TIMESTAMP_SEC).max(MAX_TIMESTAMP_SEC),
  nsec: z.number().int().min(0).max(999_999_999),
});

const envelope = {
  v: z.number().int().min(1),
  sentAt: z.number().int().nonnegative(),
  seq: count,
};

export const captureInterfaceSchema = z.object({
  /** Interface name (eth0) or, for a watched directory, the directory's label. */
  name,
  /** True when the agent runs the capture itself (tcpdump); false when it only watches files. */
  managed: z.boolean(),
  directory: z.string().max(4096),
});

export const stateSchema = z.object({
  ...envelope,
  status: z.enum(['online', 'offline']),
  bdSeq: count,
  /** Why offline: "shutdown" (clean stop) or "lost" (the last will). */
  reason: z.string().max(256).optional(),
  version: z.string().max(64).optional(),
  location: z.string().max(256).optional(),
  hostname: z.string().max(256).optional(),
  interfaces: z.array(captureInterfaceSchema).max(256).optional(),
  capabilities: z.array(z.string().max(64)).max(64).optional(),
});

export const diskSchema = z.object({
  mount: z.string().max(4096),
  fs: z.string().max(256),
  size: count,
  used: count,
  available: count,
  /** The capture directories on this filesystem. */
  directories: z.array(z.string().max(4096)).max(256),
});

export const interfaceCountersSchema = z.object({
  name,
  up: z.boolean().optional(),
  rxBytes: count,
  txBytes: count,
  rxPackets: count,
  txPackets: count,
  rxDropped: count,
  rxErrors: count,
});

export const captureProcessSchema = z.object({
  interface: name,
  running: z.boolean(),
  pid: count.optional(),
  packets: count.optional(),
  drops: count.optional(),
  /** Last error of the capture process (exit reason), if any. */
  error: z.string().max(1024).optional(),
});

export const healthSchema = z.object({
  ...envelope,
  cpu: z.object({ usage: storableAsReal(z.number().min(0).max(100)), cores: int32 }),
  memory: z.object({ total: count, used: count, available: count }),
  load: z.tuple([real, real, real]),
  uptime: z.number().nonnegative(),
  disks: z.array(diskSchema).max(64),
  interfaces: z.array(interfaceCountersSchema).max(256),
  captures: z.array(captureProcessSchema).max(256),
  /** Collector clock minus agent clock in ms, when the agent has measured it. */
  clockOffsetMs: z.number().nullable().optional(),
  /** Messages the agent's spool dropped because it was full, since start. */
  spoolDropped: count.optional(),
});

export const gapSchema = z.object({ from: timestampSchema, to: timestampSchema });

export const fileProblemSchema = z.object({
  file: z.string().max(4096),
  offset: count,
  reason: z.string().max(1024),
});

export const pcapSourceSchema = z.object({
  /** Interface name or directory label, as in the birth's interfaces. */
  name,
  directory: z.string().max(4096),
  oldest: timestampSchema.nullable(),
  newest: timestampSchema.nullable(),
  files: count,
  bytes: count,
  /** Intervals inside [oldest, newest] that no file covers. */
  gaps: z.array(gapSchema).max(1000),
  /** Damaged files (truncated, unreadable) and files whose index failed; reported, never fatal. */
  problems: z.array(fileProblemSchema).max(1000),
  /**
   * Capture files with a fresh sidecar index (`.pmidx`), so an extract skips what cannot match.
   * Optional: absent from agents that do not index (older ones, or `index.enabled: false`).
   */
  indexedFiles: count.optional(),
  /**
   * Capture files of at least 1 MiB without a fresh index: being written, settling, queued, or
   * failed (the failure is in `problems`). Smaller files need none and are in neither count.
   */
  unindexedFiles: count.optional(),
});

export const pcapSchema = z.object({
  ...envelope,
  sources: z.array(pcapSourceSchema).max(256),
});

/**
 * Packets and bytes by (source subnet, destination subnet) over one interval (docs/mqtt.md,
 * "Traffic"). The agent sends one or more messages per capture file per minute: a minute that
 * spans two files (or two capture sources) arrives as two `part`s, and a part with many pairs may
 * be split over several messages (no pair twice in one part). The collector sums the parts of a
 * (sensor, interval, pair), and a replayed message adds nothing: a row is identified by
 * (sensor, intervalStart, part, srcNet, dstNet). `srcNet`/`dstNet` are canonical CIDRs, or
 * `other` for the row the smallest pairs fold into.
 */
export const trafficSchema = z.object({
  ...envelope,
  intervalStart: z.number().int().nonnegative(),
  intervalSeconds: int32.positive(),
  /**
   * Which share of the interval this is: opaque, stable for one capture file (the same file's
   * summary sent again carries the same part). Absent in messages of senders with one part only.
   */
  part: z.string().min(1).max(64).optional(),
  flows: z.array(z.object({ srcNet: z.string().max(64), dstNet: z.string().max(64), packets: count, bytes: count })).max(10_000),
});

/**
 * A task is one sensor's share of a job (docs/jobs.md). Its states, as the agent reports them:
 *   accepted → waiting (window not closed yet) → scanning → uploading → done
 *   and failed | cancelled | skipped (nothing to read: no file overlaps the window) from any of them.
 * The collector keeps `pending` (created, not yet acknowledged) on its side only.
 */
export const TASK_STATES = ['accepted', 'waiting', 'scanning', 'uploading', 'done', 'failed', 'cancelled', 'skipped'] as const;

/** Why a result holds fewer packets than matched: a limit of the job was reached. */
export const TRUNCATION_REASONS = ['max-bytes', 'max-packets'] as const;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const taskId = z.string().min(1).max(64);

/** What a task's extract produced (the file that is, or was, uploaded). */
export const taskResultSchema = z.object({
  packets: count,
  /** Captured bytes of the packets written (what pcapmesh-pcap extract reports as bytes). */
  bytes: count,
  /** Size and SHA-256 of the result file as uploaded. */
  fileBytes: count,
  sha256: sha256Hex,
  /** Set when a limit stopped the extract early: which one. */
  truncated: z.enum(TRUNCATION_REASONS).optional(),
});

export const taskStatusSchema = z.object({
  ...envelope,
  taskId,
  /** The command's attempt this status belongs to; a status of an older attempt is ignored. */
  attempt: int32.default(0),
  status: z.enum(TASK_STATES),
  /** While waiting: when the agent will start (window end plus the time its files need to close). */
  waitUntil: timestampSchema.optional(),
  /** While scanning (at least once a second) and uploading. */
  progress: z
    .object({
      filesScanned: count,
      filesTotal: count,
      /** Packets and captured bytes matched so far. */
      packets: count,
      bytes: count,
      /** Bytes of capture read so far, of the total the selected files hold (for a progress bar). */
      bytesScanned: count.optional(),
      bytesTotal: count.optional(),
      /** While uploading: bytes the collector has acknowledged, of the result file's size. */
      uploaded: count.optional(),
      uploadTotal: count.optional(),
    })
    .optional(),
  /** With `uploading` and `done`. */
  result: taskResultSchema.optional(),
  /** With `failed`, `cancelled` and `skipped`: a sentence naming the cause. */
  error: z.string().max(2048).optional(),
  /** With `failed`: true when retrying may help (I/O error, upload refused for a transient reason). */
  transient: z.boolean().optional(),
});

export const taskLimitsSchema = z.object({
  /** Stop after this many captured bytes of matching packets (result marked truncated). */
  maxBytes: count,
  maxPackets: count,
});

export const taskCommandSchema = z.object({
  ...envelope,
  taskId,
  jobId: z.string().min(1).max(64),
  /** 0 for the first dispatch; the collector increments it when it re-sends a failed task. */
  attempt: int32.default(0),
  /** [from, to): packets with from ≤ time < to. `to` may lie in the future: the agent waits. */
  window: z.object({ from: timestampSchema, to: timestampSchema }),
  /** Canonical filter expression (the PCAP library's filter language); empty matches everything. */
  filter: z.string().max(4096),
  limits: taskLimitsSchema,
  /**
   * Where and how to upload the result (docs/jobs.md "Upload"): `url` is the collector's
   * `/api/v1/tasks/{taskId}/upload`, `token` a bearer JWT valid for this task only.
   */
  upload: z.object({ url: z.string().url().max(2048), token: z.string().min(1).max(4096) }),
});

export const cancelCommandSchema = z.object({
  ...envelope,
  taskId,
  reason: z.string().max(1024).optional(),
});

/**
 * A dry run's question to a sensor (`commands/{sensor}/estimate`): how much would this window and
 * filter read and match? Answered from file listings and sidecar indexes, never by reading packets.
 */
export const estimateCommandSchema = z.object({
  ...envelope,
  requestId: taskId,
  window: z.object({ from: timestampSchema, to: timestampSchema }),
  filter: z.string().max(4096),
});

/** The answer (`sensors/{sensor}/estimates/{requestId}`). */
export const estimateSchema = z.object({
  ...envelope,
  requestId: taskId,
  /** Capture files overlapping the window, and their bytes (what an extract would open). */
  files: count,
  bytesInWindow: count,
  /** Of those files, how many have a fresh sidecar index. */
  indexedFiles: count,
  /**
   * From the indexes: packets and bytes in the blocks that may hold a match (an upper bound; the
   * unindexed files' share is not in it). Null when no overlapping file is indexed.
   */
  matchUpperBound: z.object({ packets: count, bytes: count }).nullable(),
  /**
   * True when matchUpperBound is exact: every overlapping file is indexed and the indexes decided
   * every packet (posting lists; no block cut by the window). Absent from older agents.
   */
  matchExact: z.boolean().optional(),
  /** Bytes an extract would read: unindexed files whole, indexed files' read plans (records and blocks). */
  bytesToRead: count,
  error: z.string().max(2048).optional(),
});

export type Timestamp = z.infer<typeof timestampSchema>;
export type StateMessage = z.infer<typeof stateSchema>;
export type HealthMessage = z.infer<typeof healthSchema>;
export type PcapMessage = z.infer<typeof pcapSchema>;
export type PcapSource = z.infer<typeof pcapSourceSchema>;
export type TrafficMessage = z.infer<typeof trafficSchema>;
export type TaskStatusMessage = z.infer<typeof taskStatusSchema>;
export type TaskCommand = z.infer<typeof taskCommandSchema>;
export type CancelCommand = z.infer<typeof cancelCommandSchema>;
export type TaskState = (typeof TASK_STATES)[number];
export type TaskResult = z.infer<typeof taskResultSchema>;
export type TaskLimits = z.infer<typeof taskLimitsSchema>;
export type EstimateCommand = z.infer<typeof estimateCommandSchema>;
export type EstimateMessage = z.infer<typeof estimateSchema>;

/** Schemas by message kind: the topic decides the kind (see topics.ts). */
export const messageSchemas = {
  state: stateSchema,
  health: healthSchema,
  pcap: pcapSchema,
  traffic: trafficSchema,
  'task-status': taskStatusSchema,
  task: taskCommandSchema,
  cancel: cancelCommandSchema,
  estimate: estimateSchema,
  'estimate-command': estimateCommandSchema,
} as const;

export type MessageKind = keyof typeof messageSchemas;
export type MessageOf<K extends MessageKind> = z.infer<(typeof messageSchemas)[K]>;
/** A message as a sender builds it: the envelope is filled in by the sender's sequencer. */
export type Body<K extends MessageKind> = Omit<MessageOf<K>, 'v' | 'sentAt' | 'seq'>;
