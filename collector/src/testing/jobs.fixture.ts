/**
 * Test harness for the jobs domain over real parts: the test database, the real SensorService
 * (sensors registered, born and reporting availability), real TaskTokens, BrokerCommands over an
 * in-process RecordingBroker, and a settable clock shared by everything.
 */
import { randomBytes } from 'node:crypto';
import type { PcapSource, Timestamp } from '@pcapmesh/shared/wire';
import { BrokerCommands } from '../broker/commands.js';
import { RecordingBroker } from '../broker/recording.fixture.js';
import { createLogger } from '../log.js';
import type { Db } from '../storage/db.js';
import type { DomainEventMap } from '../domain/events.js';
import { birth, pcap, serviceHarness, uniqueName, will, type ServiceHarness } from '../domain/sensors/sensors.fixture.js';
import { createJobs, type Jobs, type JobsDeps } from '../domain/jobs/jobs.js';
import type { JobResults } from '../domain/jobs/jobs.ports.js';
import { TaskTokens } from '../domain/jobs/task-tokens.js';

export const SETTINGS: JobsDeps['settings'] = {
  defaultLimits: { maxBytes: 1_000_000, maxPackets: 1000, timeoutSeconds: 600 },
  ceilings: { maxBytes: 10_000_000, maxPackets: 100_000, timeoutSeconds: 3600 },
  maxWindowSeconds: 86_400,
  quota: { concurrentJobs: 3, bytesPerDay: 1000, dryRunsPerMinute: 5 },
  dryRunTimeoutMs: 300,
  taskNoProgressSeconds: 120,
  taskMaxAttempts: 3,
  uploadTokenMinutes: 60,
  expiryDays: 7,
  mergeLeaseSeconds: 30,
};

export const ts = (d: Date | number): Timestamp => {
  const ms = typeof d === 'number' ? d : d.getTime();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 };
};

/** One capture source spanning [from, to] (ms) with the given gaps. */
export function source(from: number, to: number, bytes: number, gaps: [number, number][] = []): PcapSource {
  return {
    name: 'eth0',
    directory: '/data/pcap',
    oldest: ts(from),
    newest: ts(to),
    files: 10,
    bytes,
    gaps: gaps.map(([a, b]) => ({ from: ts(a), to: ts(b) })),
    problems: [],
  };
}

export interface JobsHarness extends ServiceHarness {
  jobs: Jobs;
  broker: RecordingBroker;
  tokens: TaskTokens;
  emittedJobs: DomainEventMap['job.status'][];
  emittedTasks: DomainEventMap['task.progress'][];
  /** Registers a sensor, births it (online) and reports `sources` as its availability. */
  sensor(sources: PcapSource[], opts?: { prefix?: string; location?: string; online?: boolean }): Promise<string>;
  /** Takes a sensor offline (its will). */
  offline(name: string): Promise<void>;
  /** Brings it back (a birth with a new bdSeq). */
  online(name: string): Promise<void>;
}

export async function jobsHarness(db: Db, results: JobResults, opts: { start?: Date; settings?: Partial<JobsDeps['settings']> } = {}): Promise<JobsHarness> {
  const base = serviceHarness(db, { start: opts.start ?? new Date('2026-03-01T12:00:00Z'), heartbeatTimeoutSeconds: 3600 });
  const broker = new RecordingBroker();
  const tokens = new TaskTokens(randomBytes(32), () => base.clock.now);
  const emittedJobs: DomainEventMap['job.status'][] = [];
  const emittedTasks: DomainEventMap['task.progress'][] = [];
  base.events.on('job.status', (e) => emittedJobs.push(e));
  base.events.on('task.progress', (e) => emittedTasks.push(e));
  const jobs = createJobs({
    db,
    sensors: base.sensors,
    commands: new BrokerCommands(broker, () => base.clock.now.getTime()),
    tokens,
    results,
    events: base.events,
    log: createLogger({ log: { level: 'silent' } }),
    publicUrl: () => 'http://collector.test:8080',
    now: () => base.clock.now,
    settings: { ...SETTINGS, ...opts.settings },
  });
  const seqs = new Map<string, number>();
  const bdSeqs = new Map<string, number>();
  const nextSeq = (name: string) => {
    const n = (seqs.get(name) ?? 0) + 1;
    seqs.set(name, n);
    return n;
  };
  return {
    ...base,
    jobs,
    broker,
    tokens,
    emittedJobs,
    emittedTasks,
    async sensor(sources, o = {}) {
      const name = uniqueName(o.prefix ?? 'edge');
      await base.sensors.register({ name, ...(o.location !== undefined ? { location: o.location } : {}) });
      if (o.online !== false) await base.sensors.ingestState(name, birth(1, nextSeq(name)));
      await base.sensors.ingestPcap(name, pcap(nextSeq(name), sources));
      return name;
    },
    async offline(name) {
      await base.sensors.ingestState(name, will(bdSeqs.get(name) ?? 1, nextSeq(name)));
    },
    async online(name) {
      const bd = (bdSeqs.get(name) ?? 1) + 1;
      bdSeqs.set(name, bd);
      await base.sensors.ingestState(name, birth(bd, nextSeq(name)));
    },
  };
}
