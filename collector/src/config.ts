/**
 * Collector configuration: `collector.yaml` (optional) plus environment overrides, validated once
 * at start. Every key is documented here; the README's config reference is written from this file.
 *
 * Environment overrides: `PCAPMESH_` + the key path in UPPER_SNAKE joined by `__`
 * (`http.port` → `PCAPMESH_HTTP__PORT`, `mqtt.tls.certFile` → `PCAPMESH_MQTT__TLS__CERT_FILE`).
 * Conventional aliases: `DATABASE_URL` → database.url, `REDIS_URL` → redis.url,
 * `MQTT_URL` → mqtt.url (the prefixed form wins when both are set).
 *
 * @example
 *   const config = loadCollectorConfig({ file: 'collector.yaml' }); // throws ConfigError listing every bad key
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfig } from '@pcapmesh/shared/util/config';

export { ConfigError };

export const ENV_PREFIX = 'PCAPMESH_';
export const ENV_ALIASES = {
  DATABASE_URL: 'database.url',
  REDIS_URL: 'redis.url',
  MQTT_URL: 'mqtt.url',
  PCAPMESH_ADMIN_PASSWORD: 'auth.adminPassword',
} as const;

/** A TCP port; 0 = an ephemeral port chosen at start (tests; the real one is reported in the ready line). */
const port = z.number().int().min(0).max(65535);
/**
 * An optional string where an empty value (e.g. `DATABASE_URL=`) means "not set". Numbers and
 * booleans are taken as their text: environment values are read as YAML, so a password `123456`
 * arrives as a number.
 */
const optionalText = z
  .preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string().optional())
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s));
const urlWithScheme = (schemes: string[]) =>
  optionalText.refine(
    (s) => s === undefined || schemes.some((scheme) => s.startsWith(`${scheme}://`)),
    `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
  );

/** A certificate and its key are set together or not at all (reported at the one that is missing). */
function pairedFiles(
  tls: { certFile?: string | undefined; keyFile?: string | undefined },
  ctx: { addIssue(issue: { code: 'custom'; path: string[]; message: string }): void },
): void {
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    const missing = tls.certFile === undefined ? 'certFile' : 'keyFile';
    ctx.addIssue({ code: 'custom', path: ['tls', missing], message: 'required when the other of certFile/keyFile is set' });
  }
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** Job limits with the given defaults (jobs.defaultLimits, jobs.ceilings). */
const jobLimits = (d: { maxBytes: number; maxPackets: number; timeoutSeconds: number }) =>
  z
    .strictObject({
      /** Bytes of matching packets a task may return before it stops (truncated). */
      maxBytes: z.number().int().min(1).default(d.maxBytes),
      /** Matching packets a task may return before it stops (truncated). */
      maxPackets: z.number().int().min(1).default(d.maxPackets),
      /** Time a job may take before it ends with what it has, seconds. */
      timeoutSeconds: z
        .number()
        .int()
        .min(10)
        .max(366 * 86_400)
        .default(d.timeoutSeconds),
    })
    .prefault({});

export const collectorConfigSchema = z.strictObject({
  /** Directory for the embedded database (`<dataDir>/db`), the generated API token and other state. Default ./data. */
  dataDir: z.string().min(1).default('./data'),

  http: z
    .strictObject({
      /** Address the HTTP API listens on. Default 127.0.0.1 (this machine only); 0.0.0.0 for every interface. */
      host: z.string().min(1).default('127.0.0.1'),
      /** HTTP port. Default 8080. */
      port: port.default(8080),
      /** Bearer token for the API. Unset: one is generated on first start and written to `<dataDir>/api-token`. */
      apiToken: optionalText.refine((s) => s === undefined || s.length >= 16, 'must be at least 16 characters'),
      /** Directory of the dashboard build served at `/`. Default: web/dist of this installation. */
      webRoot: optionalText,
      /** Base URL at which agents reach the HTTP API (uploads go to `{publicUrl}/api/v1/tasks/{task}/upload`). Default `http://{host}:{port}`, with 127.0.0.1 for a wildcard host and the real port when port is 0; set it when sensors are remote. */
      publicUrl: urlWithScheme(['http', 'https']).transform((s) => s?.replace(/\/+$/, '')),
      /** Addresses of TLS-terminating reverse proxies whose X-Forwarded-Proto is believed (the refresh and device cookies are then Secure). Default none: the header is ignored. */
      trustedProxies: z
        .array(z.union([z.ipv4(), z.ipv6()]))
        .max(64)
        .default([]),
      tls: z
        .strictObject({
          /** PEM certificate (chain) of the HTTP server. With keyFile, the API and dashboard are served over HTTPS only. Re-read on SIGHUP. */
          certFile: optionalText,
          /** PEM private key for certFile (keep it 0600). Re-read on SIGHUP. */
          keyFile: optionalText,
        })
        .prefault({}),
    })
    .superRefine((http, ctx) => pairedFiles(http.tls, ctx))
    .prefault({}),

  mqtt: z
    .strictObject({
      /** Address the embedded broker listens on. Default 127.0.0.1; use 0.0.0.0 (with TLS) for remote sensors. */
      host: z.string().min(1).default('127.0.0.1'),
      /** Plain MQTT port of the embedded broker. Default 1883. */
      port: port.default(1883),
      /** false: the embedded broker has no plain (unencrypted) listener, only MQTTS (needs tls.certFile). Default true. */
      plainEnabled: z.boolean().default(true),
      /** Address of the plain listener when it should differ from mqtt.host (e.g. 127.0.0.1 while MQTTS listens on 0.0.0.0). Default mqtt.host. */
      plainHost: optionalText,
      /** Open connections one source address may hold at the embedded broker; more are closed at once. Default 100. */
      maxConnectionsPerAddress: z.number().int().min(1).max(100_000).default(100),
      /** CONNECTs the embedded broker takes on per second (bucket of the same size); more are answered CONNACK 3 at once and retried by the agents. Default 200. */
      connectRate: z.number().int().min(1).max(100_000).default(200),
      tls: z
        .strictObject({
          /** PEM certificate (chain) for MQTT over TLS. With keyFile, enables the TLS listener. */
          certFile: optionalText,
          /** PEM private key for certFile. */
          keyFile: optionalText,
          /** Port of the TLS listener. Default 8883. */
          port: port.default(8883),
          /** PEM CA certificate(s). Set: MQTTS clients must present a certificate signed by it whose CN equals their MQTT username (the sensor name), in addition to their secret. Re-read on SIGHUP. */
          clientCaFile: optionalText,
        })
        .prefault({}),
      /** External broker URL (mqtt://, mqtts://, ws://, wss://). Set: the collector is a client of it and runs no broker. */
      url: urlWithScheme(['mqtt', 'mqtts', 'ws', 'wss', 'tcp', 'ssl']),
      /** Username on the external broker. */
      username: optionalText,
      /** Password on the external broker (never logged). */
      password: optionalText,
      /** MQTT 5 shared-subscription group on the external broker, so several collectors split the load. */
      sharedGroup: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
        .default('pcapmesh-collectors'),
      /** MQTT 5 session expiry on the external broker, s: messages unacknowledged when the collector died, and its share queued while it was down, arrive when it is back within this time (client id from its host and data directory). 0 = clean sessions. Default 3600. */
      sessionExpirySeconds: z.number().int().min(0).max(604_800).default(3600),
      /** manual: the external broker's accounts are kept by its operator; dynamic-security: the collector keeps sensor and integration accounts at a Mosquitto 2 with its dynamic security plugin (mqtt.username must be a plugin admin). Default manual. */
      accounts: z.enum(['manual', 'dynamic-security']).default('manual'),
      /** Sensors this deployment should hold connections for; the open-file limit is checked against the larger of this and the sensors registered. Default: the sensors registered. */
      expectedSensors: z.number().int().min(0).max(10_000_000).optional(),
    })
    // Checked on the section, so these are reported even when other sections have problems.
    .superRefine((mqtt, ctx) => {
      const { certFile } = mqtt.tls;
      pairedFiles(mqtt.tls, ctx);
      if (mqtt.tls.clientCaFile !== undefined && certFile === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['tls', 'clientCaFile'],
          message: 'needs mqtt.tls.certFile and keyFile (client certificates are checked on the MQTTS listener)',
        });
      }
      if (!mqtt.plainEnabled && certFile === undefined && mqtt.url === undefined) {
        ctx.addIssue({ code: 'custom', path: ['plainEnabled'], message: 'false needs mqtt.tls.certFile and keyFile (else the broker has no listener)' });
      }
      if (mqtt.accounts === 'dynamic-security' && (mqtt.url === undefined || mqtt.username === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: ['accounts'],
          message: 'dynamic-security needs mqtt.url (an external Mosquitto) and mqtt.username (its dynamic-security admin)',
        });
      }
      if (certFile !== undefined && mqtt.plainEnabled && mqtt.port !== 0 && mqtt.tls.port === mqtt.port && (mqtt.plainHost ?? mqtt.host) === mqtt.host) {
        ctx.addIssue({ code: 'custom', path: ['tls', 'port'], message: `must differ from mqtt.port (${mqtt.port})` });
      }
    })
    .prefault({}),

  database: z
    .strictObject({
      /** PostgreSQL URL (postgres://user:pass@host:port/db). Unset: embedded PGlite at `<dataDir>/db`; `memory://` for a throw-away in-memory PGlite. */
      url: urlWithScheme(['postgres', 'postgresql', 'memory']),
    })
    .prefault({}),

  redis: z
    .strictObject({
      /** Redis URL (redis://, rediss://) for cache, tokens and live-event fan-out. Unset: in-process memory. */
      url: urlWithScheme(['redis', 'rediss']),
    })
    .prefault({}),

  ingest: z
    .strictObject({
      /** Expected interval of agent health messages, seconds. Default 10. */
      healthIntervalSeconds: z.number().int().min(1).max(3600).default(10),
      /** A sensor silent this long is marked offline ('heartbeat timeout'). Default 3 × healthIntervalSeconds. */
      heartbeatTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
    })
    .prefault({}),

  retention: z
    .strictObject({
      /** Days of health samples kept (daily partitions older than this are dropped). Default 30. */
      healthDays: z.number().int().min(1).max(3650).default(30),
      /** Days of traffic samples kept. Default 30. */
      trafficDays: z.number().int().min(1).max(3650).default(30),
      /** Days of audit log kept. Default 365. */
      auditDays: z.number().int().min(1).max(3650).default(365),
      /** Days of sensor status history kept (uptime analytics look back at most this far). Default 365. */
      statusDays: z.number().int().min(1).max(3650).default(365),
      /** Daily partitions created ahead of today. Default 3. */
      partitionsAhead: z.number().int().min(1).max(60).default(3),
    })
    .prefault({}),

  analytics: z
    .strictObject({
      /** Longest from–to window of GET /analytics/sensors, /analytics/jobs and /analytics/traffic, days. Default 90. */
      maxWindowDays: z.number().int().min(1).max(3650).default(90),
    })
    .prefault({}),

  network: z
    .strictObject({
      /** Seconds between learning passes of the subnet → location map. Default 60. */
      learnIntervalSeconds: z.number().int().min(5).max(86_400).default(60),
      /** Days of pair evidence the map learns from; GET /network/subnets lists subnets seen within it (and pinned ones). Default 7. */
      learnWindowDays: z.number().int().min(1).max(365).default(7),
      /** ≥ 2: a subnet with local evidence at this many locations is external even if others do not see it; 0: only when every location does. Default 0. */
      externalMinLocations: z
        .number()
        .int()
        .min(0)
        .max(10_000)
        .refine((n) => n !== 1, 'must be 0 (every location) or at least 2')
        .default(0),
      /** Longest from–to window of GET /network/traffic and /network/locations, days. Default 31. */
      maxWindowDays: z.number().int().min(1).max(3650).default(31),
      /** Life of the location cache's entries (map, per-location totals), seconds. Default 60. */
      cacheSeconds: z.number().int().min(1).max(86_400).default(60),
    })
    .prefault({}),

  jobs: z
    .strictObject({
      /** Limits a job gets when its request names none. */
      defaultLimits: jobLimits({ maxBytes: GiB, maxPackets: 10_000_000, timeoutSeconds: 3600 }),
      /** The most a request may ask for; a request over a ceiling is refused naming it. */
      ceilings: jobLimits({ maxBytes: 64 * GiB, maxPackets: 500_000_000, timeoutSeconds: 7 * 86_400 }),
      /** Longest capture window a job may cover, seconds. Default 7 days. */
      maxWindowSeconds: z
        .number()
        .int()
        .min(1)
        .max(366 * 86_400)
        .default(7 * 86_400),
      /** Per-user quotas. */
      quota: z
        .strictObject({
          /** Open (pending, running, merging) jobs one user may have at once. Default 5. */
          concurrentJobs: z.number().int().min(1).max(10_000).default(5),
          /** Bytes of results one user may download in 24 hours; 0 = no limit. Default 20 GiB. */
          bytesPerDay: z
            .number()
            .int()
            .min(0)
            .default(20 * GiB),
          /** Dry runs (each asks every online target sensor for an estimate) one user may make a minute; 0 = no limit. Default 30. */
          dryRunsPerMinute: z.number().int().min(0).max(100_000).default(30),
        })
        .prefault({}),
      /** A task of an online sensor that reports no progress this long fails and is re-sent. Default 120. */
      taskNoProgressSeconds: z.number().int().min(5).max(86_400).default(120),
      /** Dispatch attempts per task (the first included) before a transient failure is final. Default 3. */
      taskMaxAttempts: z.number().int().min(1).max(100).default(3),
      /** Life of a collector's merge lease on a job, renewed every third of it while it merges; a crashed holder's expires after it. Default 30. */
      mergeLeaseSeconds: z.number().int().min(1).max(3600).default(30),
      /** How long a dry run waits for the sensors' estimates, milliseconds. Default 3000. */
      dryRunTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
      /** Life of a task's upload token after the window's end or the dispatch (the later), minutes. Default 60. */
      uploadTokenMinutes: z
        .number()
        .int()
        .min(1)
        .max(7 * 1440)
        .default(60),
      /** Largest upload chunk an agent may send, bytes. Default 16 MiB. */
      uploadChunkMaxBytes: z
        .number()
        .int()
        .min(4096)
        .max(1024 * MiB)
        .default(16 * MiB),
    })
    .superRefine((jobs, ctx) => {
      for (const key of ['maxBytes', 'maxPackets', 'timeoutSeconds'] as const) {
        if (jobs.defaultLimits[key] > jobs.ceilings[key]) {
          ctx.addIssue({ code: 'custom', path: ['defaultLimits', key], message: `must not exceed jobs.ceilings.${key} (${jobs.ceilings[key]})` });
        }
      }
    })
    .prefault({}),

  results: z
    .strictObject({
      /** Directory of task results and merged captures. Default `{dataDir}/results`. */
      directory: optionalText,
      /** Quota over all results on disk, bytes. Default 50 GiB. */
      maxBytes: z
        .number()
        .int()
        .min(MiB)
        .default(50 * GiB),
      /** Results are deleted this many days after the job ended (the job row stays, marked expired). Default 7. */
      expiryDays: z.number().int().min(1).max(3650).default(7),
    })
    .prefault({}),

  auth: z
    .strictObject({
      /** Password of the `admin` user created on the first start (alias PCAPMESH_ADMIN_PASSWORD). Unset: generated and printed once. */
      adminPassword: optionalText.refine((s) => s === undefined || s.length >= 10, 'must be at least 10 characters'),
      /** Lifetime of an access JWT, minutes. Default 15. */
      accessTokenMinutes: z.number().int().min(1).max(1440).default(15),
      /** Lifetime of a refresh token (each use rotates it), days. Default 7. */
      refreshTokenDays: z.number().int().min(1).max(365).default(7),
      /** Failed logins of one username before it is locked out for lockoutSeconds. Default 5. */
      maxFailuresPerUser: z.number().int().min(1).max(1000).default(5),
      /** Failed logins from one source address before it is locked out. Default 50. */
      maxFailuresPerAddress: z.number().int().min(1).max(100_000).default(50),
      /** Window in which failures are counted and length of a lockout, seconds. Default 900. */
      lockoutSeconds: z.number().int().min(1).max(86_400).default(900),
      /** Days a (user, source address) pair and a browser's device cookie stay known after a successful login; known sources are exempt from the per-user lockout and the global budget. Default 30. */
      knownForDays: z.number().int().min(1).max(365).default(30),
      /** Failed logins a minute (all sources, all collectors sharing the cache) above which unknown sources are rate-limited. Default 100. */
      globalFailuresPerMinute: z.number().int().min(1).max(1_000_000).default(100),
      /** Password checks a second shared by all unknown sources while over globalFailuresPerMinute; 0 refuses them all. Default 2. */
      unknownChecksPerSecond: z.number().int().min(0).max(10_000).default(2),
      /** Password checks (argon2) running at once in this process. Default: the number of CPUs. */
      maxConcurrentChecks: z.number().int().min(1).max(1024).optional(),
      /** Login attempts waiting for a password check before more are refused (429). Default 100. */
      maxQueuedChecks: z.number().int().min(0).max(100_000).default(100),
      /** Optional LDAP bind authentication; LDAP users are created on their first login. */
      ldap: z
        .strictObject({
          /** ldap:// or ldaps:// URL of the directory. */
          url: z.string().regex(/^ldaps?:\/\/\S+$/, 'an ldap:// or ldaps:// URL'),
          /** Bind DN of a user with {username}, e.g. uid={username},ou=people,dc=example,dc=org */
          userDnTemplate: z.string().includes('{username}', { message: 'must contain {username}' }),
          /** Base DN of the groups, e.g. ou=groups,dc=example,dc=org */
          groupBaseDn: z.string().min(1),
          /** Filter finding a user's groups, with {dn}. Default (member={dn}). */
          groupFilter: z.string().includes('{dn}', { message: 'must contain {dn}' }).default('(member={dn})'),
          /** Group DN → role (admin, analyst, viewer); the highest role of the user's groups wins. */
          groupRoles: z.record(z.string().min(1), z.enum(['admin', 'analyst', 'viewer'])).default({}),
          /** Role of users in no mapped group. Unset: such users cannot log in. */
          defaultRole: z.enum(['admin', 'analyst', 'viewer']).optional(),
          /** Connect and operation timeout, milliseconds. Default 5000. */
          timeoutMs: z.number().int().min(100).max(60_000).default(5000),
          /** Upgrade an ldap:// connection with StartTLS before any bind. Default false. */
          startTls: z.boolean().default(false),
          /** Accept ldap:// without StartTLS (passwords cross the network in clear). Default false: refused at start. */
          allowPlain: z.boolean().default(false),
          /** PEM file of the CA the directory's certificate must chain to (ldaps:// or StartTLS). Default: the system's CAs. */
          caFile: optionalText,
          /** DN the refresh re-check binds as to read users and groups. Unset: anonymous. */
          bindDn: optionalText,
          /** Password of bindDn (never logged). */
          bindPassword: optionalText,
          /** A refresh re-checks an LDAP user in the directory (still present, groups → role) when the last check is older than this, minutes. Default 5. */
          recheckMinutes: z.number().int().min(1).max(60).default(5),
        })
        .superRefine((ldap, ctx) => {
          if (ldap.url.startsWith('ldap://') && !ldap.startTls && !ldap.allowPlain) {
            ctx.addIssue({
              code: 'custom',
              path: ['url'],
              message: 'ldap:// without StartTLS sends passwords in clear: use ldaps://, set startTls: true, or allowPlain: true to accept that',
            });
          }
        })
        .optional(),
    })
    .prefault({}),
  metrics: z
    .strictObject({
      /** Bearer token Prometheus sends to GET /api/v1/metrics (and to metrics.listen when set); at least 16 characters, never logged. Unset: /api/v1/metrics answers 401 to everyone. */
      token: optionalText.refine((s) => s === undefined || s.length >= 16, 'must be at least 16 characters'),
      /** host:port of a listener of its own serving GET /metrics (for a network only Prometheus reaches), e.g. 127.0.0.1:9464. Unset: none. */
      listen: optionalText.refine((s) => s === undefined || /^(?:\[[^\]]+\]|[^:]+):\d{1,5}$/.test(s), 'must be host:port, e.g. 127.0.0.1:9464'),
    })
    .prefault({}),
  log: z
    .strictObject({
      /** Log level: fatal, error, warn, info, debug, trace or silent. Default info. */
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** auto: one readable line per entry when the log goes to a terminal, JSON lines otherwise; json or pretty force either. Default auto. */
      format: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .prefault({}),
});

type Parsed = z.infer<typeof collectorConfigSchema>;

/** The validated configuration with derived values filled in. */
export type CollectorConfig = Omit<Parsed, 'mqtt' | 'ingest' | 'results'> & {
  /** Absolute path of dataDir. */
  dataDir: string;
  /** results.directory resolved to an absolute path (default `{dataDir}/results`). */
  results: Omit<Parsed['results'], 'directory'> & { directory: string };
  mqtt: Parsed['mqtt'] & {
    /** 'external' when mqtt.url is set, else 'embedded'. */
    mode: 'embedded' | 'external';
  };
  ingest: { healthIntervalSeconds: number; heartbeatTimeoutSeconds: number };
};

export interface LoadCollectorConfigOptions {
  /** YAML file; undefined: defaults and environment only. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Base for a relative dataDir. Default process.cwd(). */
  cwd?: string;
}

/** Loads and validates; throws ConfigError naming every bad, unknown or missing key. */
export function loadCollectorConfig(opts: LoadCollectorConfigOptions = {}): CollectorConfig {
  const parsed = loadConfig(collectorConfigSchema, {
    file: opts.file,
    envPrefix: ENV_PREFIX,
    env: opts.env ?? process.env,
    aliases: ENV_ALIASES,
  });
  return resolveConfig(parsed, opts.cwd ?? process.cwd());
}

/** Fills the derived values of an already-validated configuration (also for configs built in code). */
export function resolveConfig(parsed: Parsed, cwd: string = process.cwd()): CollectorConfig {
  const dataDir = resolve(cwd, parsed.dataDir);
  return {
    ...parsed,
    dataDir,
    results: { ...parsed.results, directory: resolve(cwd, parsed.results.directory ?? resolve(dataDir, 'results')) },
    mqtt: { ...parsed.mqtt, mode: parsed.mqtt.url === undefined ? 'embedded' : 'external' },
    ingest: {
      healthIntervalSeconds: parsed.ingest.healthIntervalSeconds,
      heartbeatTimeoutSeconds: parsed.ingest.heartbeatTimeoutSeconds ?? 3 * parsed.ingest.healthIntervalSeconds,
    },
  };
}

/**
 * The base URL agents use to reach this collector's HTTP API: `http.publicUrl`, else
 * `http(s)://{host}:{port}` (https when http.tls is set) with a wildcard host replaced by 127.0.0.1 and `boundPort` (the real port
 * after start) used when it is given.
 */
export function publicUrlOf(config: Pick<CollectorConfig, 'http'>, boundPort?: number): string {
  if (config.http.publicUrl !== undefined) return config.http.publicUrl;
  const host = ['0.0.0.0', '::', '[::]'].includes(config.http.host) ? '127.0.0.1' : config.http.host;
  const shown = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const scheme = config.http.tls.certFile === undefined ? 'http' : 'https';
  return `${scheme}://${shown}:${boundPort ?? config.http.port}`;
}

/** A full configuration from partial input, validated (for tests and embedding). Throws ConfigError. */
export function collectorConfig(input: z.input<typeof collectorConfigSchema> = {}, cwd?: string): CollectorConfig {
  const result = collectorConfigSchema.safeParse(input);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`),
      'collectorConfig()',
    );
  }
  return resolveConfig(result.data, cwd);
}
