/**
 * Builds the jobs domain from its ports: one dispatcher, lifecycle and dry-run estimator shared by
 * the service (API, ingest, uploads) and the scheduler (ticks, restarts, sensors coming online).
 *
 * @example
 *   const jobs = createJobs({ db, sensors, commands, tokens, results, events, log, publicUrl: () => url, settings: { ...config.jobs, expiryDays: config.results.expiryDays } });
 *   await jobs.scheduler.resume(); // then jobs.scheduler.tick() every ~2 s
 *   ...
 *   await jobs.close();
 *
 * Created jobs already watch 'sensor.status' events: a sensor's birth or return re-sends its tasks.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.js';
import type { DomainEvents } from '../events.js';
import type { SensorView } from '../sensors/sensors.types.js';
import { TaskDispatcher } from './dispatcher.js';
import { DryRunEstimates } from './estimates.js';
import type { CommandSender, JobResults, SubnetLocator, TaskTokenIssuer } from './jobs.ports.js';
import { JobsService, type JobsSettings } from './jobs.service.js';
import { JobLifecycle } from './lifecycle.js';
import { JobLeases } from './job-lease.js';
import { JobScheduler } from './scheduler.js';

export interface JobsDeps {
  db: Db;
  sensors: { list(): Promise<SensorView[]> };
  /** The subnet map, for `targets: { auto: true }` (JobsServiceDeps.subnets). */
  subnets?: SubnetLocator | undefined;
  commands: CommandSender;
  tokens: TaskTokenIssuer;
  results: JobResults;
  events: DomainEvents;
  log: Logger;
  /** Base URL agents reach the API at (config http.publicUrl, or derived after the server started). */
  publicUrl: () => string;
  now?: () => Date;
  settings: JobsSettings & {
    taskNoProgressSeconds: number;
    taskMaxAttempts: number;
    uploadTokenMinutes: number;
    /** results.expiryDays */
    expiryDays: number;
    /** jobs.mergeLeaseSeconds */
    mergeLeaseSeconds: number;
  };
  /**
   * This collector in job and merge leases, unique among the live collectors on the database;
   * default `{hostname}:{pid}:{random}` (unique per process). jobs/stack.ts passes
   * `{hostname}:{dataDir}` so a collector restarted on its (locked) data directory finds its leases again.
   */
  holder?: string;
}

export interface Jobs {
  service: JobsService;
  scheduler: JobScheduler;
  estimates: DryRunEstimates;
  /** Stops re-sending on sensors' returns and waits for background work (re-sends, merges after a last status). */
  close(): Promise<void>;
}

export function createJobs(deps: JobsDeps): Jobs {
  const now = deps.now ?? (() => new Date());
  const { db, log, settings } = deps;
  const dispatcher = new TaskDispatcher({
    db,
    commands: deps.commands,
    tokens: deps.tokens,
    publicUrl: deps.publicUrl,
    uploadTokenMinutes: settings.uploadTokenMinutes,
    log,
    now,
  });
  const holder = deps.holder ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const leases = new JobLeases(db, holder, settings.mergeLeaseSeconds);
  const lifecycle = new JobLifecycle({ db, dispatcher, results: deps.results, events: deps.events, log, now, settings, holder });
  const estimates = new DryRunEstimates(deps.commands, (sensor, err) => log.warn({ sensor, err }, 'publishing an estimate command failed'));
  const service = new JobsService({
    db,
    sensors: deps.sensors,
    subnets: deps.subnets,
    dispatcher,
    lifecycle,
    leases,
    estimates,
    results: deps.results,
    log,
    now,
    settings,
  });
  const scheduler = new JobScheduler({ db, service, dispatcher, lifecycle, leases, results: deps.results, log, now, settings });
  // A sensor that is born or comes back gets its unfinished tasks again (commands sent while it was away are lost).
  const unwatch = scheduler.watch(deps.events);
  return {
    service,
    scheduler,
    estimates,
    async close() {
      unwatch();
      await scheduler.settled();
      await service.settled();
    },
  };
}
