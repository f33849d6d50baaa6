/**
 * The jobs stack, assembled once for the collector (app.ts) and the HTTP test fixture: the
 * evidence signer and the task-token key (both from `auth_secrets`), the results directory service,
 * commands over the broker, and createJobs (service, scheduler, dry-run estimates).
 *
 * `close()` ends merge workers; callers stop their own timers first.
 *
 * @example
 *   const stack = await openJobsStack({ db, sensors, events, broker, log, version, config, publicUrl: () => url });
 *   createHttpApp({ ..., jobs: stack.jobs.service, manifestKeys: stack.results });
 */
import type { Logger } from 'pino';
import { BrokerCommands } from '../broker/commands.js';
import type { BrokerTransport } from '../broker/transport.js';
import type { CollectorConfig } from '../config.js';
import type { DomainEvents } from '../domain/events.js';
import { createJobs, type Jobs } from '../domain/jobs/jobs.js';
import { ManifestSigner } from '../domain/jobs/manifest.js';
import { ResultsService } from '../domain/jobs/results.service.js';
import { TaskTokens } from '../domain/jobs/task-tokens.js';
import { UploadService } from '../domain/jobs/uploads.service.js';
import type { SubnetLocator } from '../domain/jobs/jobs.ports.js';
import type { SensorView } from '../domain/sensors/sensors.types.js';
import type { Db } from '../storage/db.js';

export interface JobsStackDeps {
  db: Db;
  sensors: { list(): Promise<SensorView[]> };
  /** The subnet map (NetworkService), narrowing `targets: { auto: true }`. */
  subnets?: SubnetLocator | undefined;
  events: DomainEvents;
  broker: Pick<BrokerTransport, 'publish'>;
  log: Logger;
  /** Written into manifests. */
  version: string;
  config: Pick<CollectorConfig, 'jobs' | 'results'>;
  /** Base URL agents upload to (http.publicUrl, or the bound address once the server runs). */
  publicUrl: () => string;
  now?: () => Date;
  /** This collector in job and merge leases (ClusterMember.holder); default unique per process. */
  holder?: string;
}

export interface JobsStack {
  jobs: Jobs;
  results: ResultsService;
  tokens: TaskTokens;
  /** Task result uploads (HttpDeps.uploads); `recover()` once on start. */
  uploads: UploadService;
  close(): Promise<void>;
}

export async function openJobsStack(deps: JobsStackDeps): Promise<JobsStack> {
  const { db, config, log } = deps;
  const now = deps.now ?? (() => new Date());
  const signer = await ManifestSigner.open({ db });
  const results = new ResultsService({
    db,
    directory: config.results.directory,
    expiryDays: config.results.expiryDays,
    signer,
    log,
    version: deps.version,
    now,
  });
  const tokens = await TaskTokens.open({ db, now });
  const jobs = createJobs({
    db,
    sensors: deps.sensors,
    subnets: deps.subnets,
    commands: new BrokerCommands(deps.broker, () => now().getTime()),
    tokens,
    results,
    events: deps.events,
    log: log.child({ component: 'jobs' }),
    publicUrl: deps.publicUrl,
    now,
    ...(deps.holder !== undefined ? { holder: deps.holder } : {}),
    settings: {
      defaultLimits: config.jobs.defaultLimits,
      ceilings: config.jobs.ceilings,
      maxWindowSeconds: config.jobs.maxWindowSeconds,
      quota: config.jobs.quota,
      dryRunTimeoutMs: config.jobs.dryRunTimeoutMs,
      taskNoProgressSeconds: config.jobs.taskNoProgressSeconds,
      taskMaxAttempts: config.jobs.taskMaxAttempts,
      uploadTokenMinutes: config.jobs.uploadTokenMinutes,
      expiryDays: config.results.expiryDays,
      mergeLeaseSeconds: config.jobs.mergeLeaseSeconds,
    },
  });
  const uploads = new UploadService({
    db,
    directory: config.results.directory,
    maxBytes: config.results.maxBytes,
    chunkMaxBytes: config.jobs.uploadChunkMaxBytes,
    log,
    now,
    onTaskUploaded: async (taskId, result) => void (await jobs.service.taskUploaded(taskId, result)),
    onTaskFailed: async (taskId, reason) => void (await jobs.service.taskFailed(taskId, reason)),
  });
  return {
    jobs,
    results,
    tokens,
    uploads,
    async close() {
      // Stops re-sends on sensors' returns and waits for merges started by a last status.
      await jobs.close();
      await results.close();
    },
  };
}
