/**
 * Composes the agent from its parts and owns their lifecycle:
 *
 *   spool + sequencer ─ outbox ─┬─ health (every intervals.healthSeconds)
 *                               └─ availability (scan every intervals.scanSeconds, publish on
 *                                  change, at least every intervals.availabilitySeconds)
 *                                    └─ indexer (sees each scan; builds closed files' sidecar
 *                                       indexes in one worker thread, index.enabled)
 *                                         └─ traffic (per-minute subnet-pair summaries read in
 *                                            the same build, published via the outbox; traffic.enabled)
 *   MQTT connection: birth/will, replays the spool         clock: offset to the collector
 *     └─ commands → task runner (extract in a worker, upload over HTTP; tasks.*) and estimator
 *   tcpdump captures (interface set, capture.enabled) + ring retention sweeps
 *
 * `stop()` ends the schedules, stops the task runner (its tasks resume at the next start), tcpdump and the index worker, publishes the offline "shutdown" state, disconnects
 * and closes the spool, in that order.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { Sequencer } from '@pcapmesh/shared/wire';
import type { AgentConfig } from './config.js';
import { CollectorClock } from './clock.js';
import { every } from '@pcapmesh/shared/util/every';
import { HealthCollector } from './health/collect.js';
import { BdSeqStore } from './mqtt/bd-seq.js';
import { MqttConnection } from './mqtt/connection.js';
import { Outbox } from './mqtt/outbox.js';
import { Spool } from './mqtt/spool.js';
import { AvailabilityScanner } from './pcap/availability.js';
import { CaptureIndexer } from './pcap/indexer.js';
import { AvailabilityReporter } from './pcap/reporter.js';
import { TcpdumpCapture } from './capture/tcpdump.js';
import { resolveCaptureUser } from './capture/capture-user.js';
import { TrafficPublisher } from './traffic/publisher.js';
import { RingRetention } from './capture/retention.js';
import { AGENT_VERSION } from './version.js';
import { Estimator } from './tasks/estimate.js';
import { WorkerExtractor } from './tasks/extractor.js';
import { commandHandler } from './tasks/intake.js';
import { TaskRunner } from './tasks/runner.js';
import { TaskStore } from './tasks/store.js';
import { HttpUploader } from './tasks/upload.js';

export interface AgentEvents {
  /** Each time the agent is online (birth acknowledged). */
  onOnline?: (info: { bdSeq: number; first: boolean }) => void;
}

export class Agent {
  private readonly spool: Spool;
  private readonly connection: MqttConnection;
  private readonly captures: { config: AgentConfig['captures'][number]; tcpdump: TcpdumpCapture }[];
  private readonly clock: CollectorClock;
  private readonly health: HealthCollector;
  private readonly availability: AvailabilityReporter;
  private readonly indexer: CaptureIndexer | null;
  private readonly traffic: TrafficPublisher | null;
  private readonly outbox: Outbox;
  private readonly runner: TaskRunner;
  /** Keeps its extract threads between tasks; closed on stop. */
  private readonly extractor = new WorkerExtractor();
  private readonly retention: RingRetention;
  private stops: (() => Promise<void>)[] = [];
  private onlineCount = 0;

  constructor(
    private readonly config: AgentConfig,
    private readonly logger: Logger,
    events: AgentEvents = {},
  ) {
    const stateDir = resolve(config.stateDir);
    this.spool = Spool.open(join(stateDir, 'spool'), { maxBytes: config.spool.maxBytes, logger });
    const sequencer = new Sequencer(this.spool.nextSeq);
    const managed = (c: AgentConfig['captures'][number]) => c.interface !== undefined && config.capture.enabled;

    // tcpdump's -Z user must exist: a clear ConfigError here, before anything starts.
    const captureUser = config.captures.some(managed) ? resolveCaptureUser(config.capture.user) : null;
    this.captures = config.captures.filter(managed).map((c) => ({
      config: c,
      tcpdump: new TcpdumpCapture({
        interface: c.interface!,
        directory: resolve(c.directory),
        snaplen: c.snaplen,
        rotateSeconds: c.rotateSeconds,
        tcpdumpPath: config.capture.tcpdumpPath,
        user: captureUser!,
        logger: logger.child({ interface: c.interface }),
        statsIntervalMs: config.intervals.healthSeconds * 1000,
      }),
    }));

    this.retention = new RingRetention(
      this.captures.map(({ config: c }) => ({
        directory: resolve(c.directory),
        interface: c.interface!,
        maxBytes: c.maxBytes,
        minFreePercent: c.minFreePercent,
      })),
    );

    this.connection = new MqttConnection({
      sensor: config.name,
      url: config.mqtt.url,
      username: config.mqtt.username ?? config.name,
      password: config.mqtt.password,
      protocolVersion: config.mqtt.protocolVersion,
      keepaliveSeconds: config.mqtt.keepaliveSeconds,
      tls: config.mqtt.tls,
      spool: this.spool,
      sequencer,
      bdSeq: new BdSeqStore(join(stateDir, 'bdseq')),
      logger,
      describe: () => ({
        version: AGENT_VERSION,
        location: config.location,
        hostname: hostname(),
        interfaces: config.captures.map((c) => ({ name: c.interface ?? c.name, managed: managed(c), directory: resolve(c.directory) })),
        capabilities: [
          'health',
          'pcap-availability',
          'tasks',
          'estimate',
          ...(this.indexer ? ['pcap-index'] : []),
          ...(this.traffic ? ['traffic'] : []),
          ...(this.captures.length > 0 ? ['tcpdump'] : []),
        ],
      }),
      onOnline: ({ bdSeq }) => events.onOnline?.({ bdSeq, first: this.onlineCount++ === 0 }),
      onCommand: (command) => handle(command),
    });
    this.outbox = new Outbox(config.name, this.spool, sequencer, () => this.connection.notify());
    const sources = config.captures.map((c) => ({ name: c.interface ?? c.name, directory: resolve(c.directory) }));
    const longestRotation = Math.max(0, ...config.captures.map((c) => c.rotateSeconds));
    this.runner = new TaskRunner({
      store: new TaskStore(join(stateDir, 'tasks')),
      sources,
      extractor: this.extractor,
      uploader: new HttpUploader({ chunkBytes: config.tasks.uploadChunkBytes }),
      sink: this.outbox,
      logger: logger.child({ part: 'tasks' }),
      maxConcurrent: config.tasks.maxConcurrent,
      closeDelayMs: (longestRotation + (config.index.enabled ? config.index.settleSeconds : 0)) * 1000,
      quietMs: config.tasks.closedAfterSeconds * 1000,
      pruneAfterMs: config.tasks.keepHours * 3_600_000,
    });
    const handle = commandHandler({
      runner: this.runner,
      estimator: new Estimator(sources),
      answer: (body) => this.outbox.estimate(body),
      logger: logger.child({ part: 'tasks' }),
    });
    this.clock = new CollectorClock(config.collectorUrl, logger);
    this.health = new HealthCollector({
      directories: config.captures.map((c) => resolve(c.directory)),
      captures: () => this.captures.map((c) => c.tcpdump.state()),
      clockOffsetMs: () => this.clock.offsetMs,
      spoolDropped: () => this.spool.stats.dropped,
    });
    const rotate = (c: AgentConfig['captures'][number]) => c.rotateSeconds;
    const { traffic } = config;
    if (traffic.enabled && !config.index.enabled) logger.warn('traffic summaries are off: they are read in the index build, and index.enabled is false');
    const trafficPublisher =
      traffic.enabled && config.index.enabled
        ? new TrafficPublisher({
            stateDir,
            settings: { ipv4Prefix: traffic.ipv4Prefix, ipv6Prefix: traffic.ipv6Prefix, maxPairsPerMinute: traffic.maxPairsPerMinute },
            backfill: traffic.backfill,
            sink: this.outbox,
            logger: logger.child({ part: 'traffic' }),
            sources: sources.map((s) => s.name),
          })
        : null;
    const indexer = config.index.enabled
      ? new CaptureIndexer({
          settleSeconds: config.index.settleSeconds,
          logger: logger.child({ part: 'indexer' }),
          ...(trafficPublisher ? { traffic: trafficPublisher } : {}),
        })
      : null;
    this.indexer = indexer;
    this.traffic = trafficPublisher;
    this.availability = new AvailabilityReporter(
      new AvailabilityScanner(
        config.captures.map((c) => ({
          name: c.interface ?? c.name,
          directory: resolve(c.directory),
          gapSeconds: Math.max(60, 2 * rotate(c)),
          activeSeconds: rotate(c) + 10,
          managed: managed(c),
        })),
        Date.now,
        indexer ? (listing) => indexer.review(listing) : undefined,
      ),
      this.outbox,
      config.intervals.availabilitySeconds * 1000,
    );
  }

  async start(): Promise<void> {
    const { intervals } = this.config;
    for (const c of this.captures) c.tcpdump.start();
    // Saved tasks resume before commands can arrive, so a re-sent command finds its task.
    this.runner.start();
    this.connection.start();
    await this.health.prime();
    this.stops.push(
      every('availability scan', intervals.scanSeconds * 1000, () => this.availability.tick(), this.logger),
      // The first report 1 s after the CPU baseline, so it measures something.
      every('health report', intervals.healthSeconds * 1000, async () => this.outbox.send('health', await this.health.collect()), this.logger, 1_000),
      // Checked every 30 s: retried while unknown, re-measured every intervals.clockSeconds.
      every('clock offset', 30_000, () => this.clock.refreshIfDue(intervals.clockSeconds * 1000), this.logger),
      // A free-space check every second, a full sweep every 10 s (capture/retention.ts).
      every('ring retention', 1_000, () => this.sweepRings(), this.logger),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.stops.map((stop) => stop()));
    this.stops = [];
    await Promise.all([this.runner.stop(), ...this.captures.map((c) => c.tcpdump.stop()), this.indexer?.stop()]);
    await this.extractor.close();
    await this.connection.stop();
    this.spool.close();
  }

  private sweepRings(): void {
    for (const { policy, result: r } of this.retention.tick()) {
      this.logger.info(
        { interface: policy.interface, deleted: r.deleted.length, bytes: r.deletedBytes, keptBytes: r.keptBytes },
        'capture: ring retention deleted the oldest files',
      );
    }
  }
}
