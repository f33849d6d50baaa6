/**
 * The agent's configuration: one YAML file (optional) plus environment overrides, validated once
 * at start against this schema. Every key is documented here; the README's config reference is
 * written from these comments.
 *
 * Environment overrides: prefix `PCAPMESH_AGENT_`, key path in UPPER_SNAKE joined by `__`, e.g.
 * `PCAPMESH_AGENT_NAME`, `PCAPMESH_AGENT_MQTT__URL`, `PCAPMESH_AGENT_MQTT__PASSWORD`,
 * `PCAPMESH_AGENT_INTERVALS__HEALTH_SECONDS`. `captures` is a list: override it as a whole with a
 * YAML flow list (`[{name: local, directory: ./data/pcap}]`).
 *
 * @example
 *   const cfg = loadAgentConfig('/etc/pcapmesh/agent.yaml'); // throws ConfigError listing every problem
 */
import { loadConfig } from '@pcapmesh/shared/util/config';
import { isValidSensorName } from '@pcapmesh/shared/wire';
import { z } from 'zod';

export const AGENT_ENV_PREFIX = 'PCAPMESH_AGENT_';

const seconds = (dflt: number, min = 1) => z.number().int().min(min).max(86_400).default(dflt);
/** Strings that YAML may have read as numbers or booleans (a password "1234" in the environment). */
const text = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const captureSchema = z.strictObject({
  /** Label of this capture source: shown in the birth's interfaces and the availability report. */
  name: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, ".", "_", "-"'),
  /** Directory holding the capture files (watched; written by tcpdump when `interface` is set). */
  directory: z.string().min(1),
  /** Network interface to capture on with tcpdump (only when `capture.enabled`); unset = watch only. */
  interface: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[^\s/]+$/, 'an interface name (eth0)')
    .optional(),
  /** tcpdump -G: start a new file every this many seconds. */
  rotateSeconds: seconds(60),
  /** Ring retention: delete the oldest files while the directory holds more than this many bytes (0 = no limit). */
  maxBytes: z.number().int().nonnegative().default(0),
  /** Ring retention: delete the oldest files while the filesystem has less than this much free space. */
  minFreePercent: z.number().min(0).max(90).default(10),
  /** tcpdump -s: bytes captured per packet (0 = whole packet, 262144). */
  snaplen: z.number().int().min(0).max(262_144).default(0),
});

export const agentConfigSchema = z.strictObject({
  /** Sensor name: the MQTT client id, user name and topic level (a-z, 0-9, ".", "_", "-"; 1-63 characters). */
  name: z.string().refine(isValidSensorName, 'invalid sensor name: use a-z, 0-9, ".", "_", "-" (1-63 characters, lower case)'),
  /** Free-text site label shown in the dashboard. */
  location: z.string().max(256).default(''),
  /** HTTP base URL of the collector (clock offset now, result uploads later), e.g. http://collector:8080. */
  collectorUrl: z.url().optional(),
  mqtt: z
    .strictObject({
      /** Broker URL: mqtt://host:1883 or mqtts://host:8883. */
      url: z
        .string()
        .regex(/^mqtts?:\/\/[^\s]+$/, 'an mqtt:// or mqtts:// URL')
        .default('mqtt://127.0.0.1:1883'),
      /** MQTT user name; defaults to the sensor name. */
      username: z.string().min(1).optional(),
      /** The sensor's secret (printed once by `pcapmesh sensor add`). Never logged. */
      password: text.optional(),
      /** MQTT protocol version: 4 (3.1.1, what the embedded broker speaks) or 5. */
      protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
      keepaliveSeconds: seconds(30, 5),
      tls: z
        .strictObject({
          /** PEM file of the CA that signed the broker's certificate (mqtts:// only). */
          caFile: z.string().min(1).optional(),
          /** Refuse brokers whose certificate does not verify. Keep true outside labs. */
          rejectUnauthorized: z.boolean().default(true),
          /** PEM client certificate (`pcapmesh certs sensor NAME`) for a broker that requires one (collector mqtt.tls.clientCaFile); its CN must be the sensor name. */
          certFile: z.string().min(1).optional(),
          /** PEM private key of certFile (keep it 0600). */
          keyFile: z.string().min(1).optional(),
        })
        .refine((tls) => (tls.certFile === undefined) === (tls.keyFile === undefined), { message: 'certFile and keyFile are set together', path: ['keyFile'] })
        .prefault({}),
    })
    .prefault({}),
  /** Where the agent keeps its spool and sequence state. */
  stateDir: z.string().min(1).default('./data/agent'),
  capture: z
    .strictObject({
      /** Run tcpdump for captures that name an `interface` (needs root or CAP_NET_RAW). */
      enabled: z.boolean().default(true),
      /** tcpdump binary. */
      tcpdumpPath: z.string().min(1).default('tcpdump'),
      /** User tcpdump drops to after opening the device (tcpdump -Z; matters when the agent runs as root). Must exist: checked at start. Default pcapmesh. */
      user: z
        .string()
        .regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'a user name (lowercase letters, digits, _ . -)')
        .default('pcapmesh'),
    })
    .prefault({}),
  /** Capture sources: directories to watch, optionally filled by tcpdump on an interface. */
  captures: z
    .array(captureSchema)
    .max(64)
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((c, i) => {
        if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate capture name ${c.name}` });
        seen.add(c.name);
      });
    }),
  intervals: z
    .strictObject({
      /** Health report period. */
      healthSeconds: seconds(10),
      /** Longest time between two availability reports (also sent on every change). */
      availabilitySeconds: seconds(60),
      /** How often capture directories are checked for changes. */
      scanSeconds: seconds(5),
      /** How often the clock offset to the collector is measured. */
      clockSeconds: seconds(300, 10),
    })
    .prefault({}),
  index: z
    .strictObject({
      /** Build a sidecar index (`.pmidx`) of every closed capture file of at least 1 MiB, so extracts skip what cannot match. */
      enabled: z.boolean().default(true),
      /** A capture not modified for this long is closed and gets indexed (the newest file of a managed ring never is). */
      settleSeconds: seconds(60),
    })
    .prefault({}),
  traffic: z
    .strictObject({
      /** Publish per-minute traffic by (source subnet, destination subnet) of every closed capture file, read in its index build (needs index.enabled). */
      enabled: z.boolean().default(true),
      /** Prefix length IPv4 addresses are grouped by (24: 10.1.2.0/24). */
      ipv4Prefix: z.number().int().min(0).max(32).default(24),
      /** Prefix length IPv6 addresses are grouped by (64: 2001:db8:1:2::/64). */
      ipv6Prefix: z.number().int().min(0).max(128).default(64),
      /** Most subnet pairs per file and minute; the smallest beyond fold into one row other → other. */
      maxPairsPerMinute: z.number().int().min(1).max(10_000).default(1000),
      /** Also read files that closed before traffic was first enabled (already indexed): one extra read of each. */
      backfill: z.boolean().default(false),
    })
    .prefault({}),
  tasks: z
    .strictObject({
      /** Tasks scanning or uploading at once; the others wait in the queue (status accepted). */
      maxConcurrent: z.number().int().min(1).max(16).default(1),
      /**
       * Bytes per upload chunk (PUT); at most the collector's jobs.uploadChunkMaxBytes (default 16 MiB
       * too). A result up to this size goes in one request; chunks are streamed from the file, so the
       * size costs no memory.
       */
      uploadChunkBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .max(64 * 1024 * 1024)
        .default(16 * 1024 * 1024),
      /** A capture source whose newest file has not changed for this long is closed: a task whose window has ended may start. */
      closedAfterSeconds: seconds(5),
      /** Ended tasks' state (and any file left) is kept this long, then removed. */
      keepHours: z.number().int().min(1).max(720).default(24),
    })
    .prefault({}),
  spool: z
    .strictObject({
      /** Disk bound of the outgoing QoS 1 spool; beyond it the oldest health records are dropped (counted). */
      maxBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(64 * 1024 * 1024),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** auto: readable lines when stderr is a terminal, JSON lines otherwise; json or pretty force either. */
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
export type CaptureConfig = z.infer<typeof captureSchema>;

/** Loads and validates the configuration; throws ConfigError naming every bad key. */
export function loadAgentConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): AgentConfig {
  return loadConfig(agentConfigSchema, { file, envPrefix: AGENT_ENV_PREFIX, env });
}
