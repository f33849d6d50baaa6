/**
 * The collector's periodic work, each run once per interval across every collector on the
 * database (domain/maintenance/periodic.ts): results expiry (hourly), the heartbeat sweep
 * (ingest.healthIntervalSeconds), partition maintenance (hourly, also under its advisory lock) and
 * subnet map learning (network.learnIntervalSeconds, also under its advisory lock). Every
 * collector checks each every half interval; the first check of each comes as late as it did
 * when these ran alone (partitions were made by the start step, and the sweep waits one heartbeat
 * timeout: until then a collector that just started has not seen its sensors report).
 *
 * `startPeriodicWork` returns the function that stops them all, waiting for runs in progress.
 */
import type { Logger } from 'pino';
import { every } from '@pcapmesh/shared/util/every';
import type { CollectorConfig } from './config.js';
import type { AuditService } from './domain/accounts/audit.service.js';
import type { ResultsService } from './domain/jobs/results.service.js';
import { PeriodicRuns } from './domain/maintenance/periodic.js';
import type { NetworkService } from './domain/network/network.service.js';
import type { SensorService } from './domain/sensors/sensors.service.js';
import type { Db } from './storage/db.js';
import type { PartitionManager } from './storage/partitions.js';

/** Results expiry and partition maintenance run hourly. */
export const HOURLY_SECONDS = 3600;

export interface PeriodicWorkDeps {
  db: Db;
  /** ClusterMember.holder. */
  holder: string;
  config: Pick<CollectorConfig, 'ingest' | 'network'>;
  log: Logger;
  results: Pick<ResultsService, 'sweepExpired'>;
  audit: Pick<AuditService, 'record'>;
  sensors: Pick<SensorService, 'sweepHeartbeats'>;
  partitions: Pick<PartitionManager, 'run'>;
  network: Pick<NetworkService, 'learn'>;
}

interface Work {
  name: string;
  intervalSeconds: number;
  firstCheckMs: number;
  run: () => Promise<unknown>;
}

export function startPeriodicWork(deps: PeriodicWorkDeps): () => Promise<void> {
  const { config, log } = deps;
  const runs = new PeriodicRuns(deps.db, deps.holder, log.child({ component: 'periodic' }));
  const works: Work[] = [
    {
      name: 'results expiry',
      intervalSeconds: HOURLY_SECONDS,
      firstCheckMs: 0,
      run: async () => {
        for (const expired of await deps.results.sweepExpired(new Date())) {
          log.info({ job: expired.jobId, bytes: expired.bytes }, 'job results expired and deleted');
          await deps.audit.record({
            actor: null,
            action: 'job.expire',
            target: expired.jobId,
            outcome: 'ok',
            details: { owner: expired.owner, bytes: expired.bytes },
          });
        }
      },
    },
    {
      name: 'heartbeat sweep',
      intervalSeconds: config.ingest.healthIntervalSeconds,
      firstCheckMs: config.ingest.heartbeatTimeoutSeconds * 1000,
      run: async () => {
        const offline = await deps.sensors.sweepHeartbeats();
        if (offline.length > 0) log.info({ sensors: offline }, 'heartbeat timeout: marked offline');
      },
    },
    {
      name: 'partition maintenance',
      intervalSeconds: HOURLY_SECONDS,
      firstCheckMs: HOURLY_SECONDS * 1000,
      run: () => deps.partitions.run(new Date(), { ifLocked: 'skip' }),
    },
    {
      name: 'subnet map learning',
      intervalSeconds: config.network.learnIntervalSeconds,
      firstCheckMs: config.network.learnIntervalSeconds * 1000,
      run: () => deps.network.learn(),
    },
  ];
  const stops = works.map((w) =>
    every(
      w.name,
      PeriodicRuns.checkEveryMs(w.intervalSeconds),
      () => runs.runIfDue(w.name, w.intervalSeconds, w.run),
      (err) => log.error({ err, work: w.name }, `${w.name} failed`),
      w.firstCheckMs,
    ),
  );
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
}
