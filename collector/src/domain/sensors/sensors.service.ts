/**
 * The sensor fleet: registration and secrets, ingest of agent messages (delegated to
 * SensorIngest), offline detection by heartbeat, and the read views the API serves.
 * Transport (broker/, http/) calls this; this calls storage/*.repo.ts only.
 *
 * @example
 *   const sensors = new SensorService({ db, events, log, heartbeatTimeoutSeconds: 30 });
 *   const { secret } = await sensors.register({ name: 'edge-1', location: 'lab' });
 *   await sensors.verifySecret('edge-1', secret); // true
 */
import { randomBytes } from 'node:crypto';
import { isValidSensorName, type HealthMessage, type PcapMessage, type SensorStatusEvent, type StateMessage, type TrafficMessage } from '@pcapmesh/shared/wire';
import type { Logger } from '../../log.js';
import { hashMachineSecret, isSha256Hash, matchesSha256, sharedLegacyVerifier, type LegacyVerifier } from '../accounts/machine-secrets.js';
import type { Db } from '../../storage/db.js';
import { listDevices } from '../../storage/devices.repo.js';
import { healthBuckets, latestHealthSamples } from '../../storage/health.repo.js';
import { ensureLocation, listLocations } from '../../storage/locations.repo.js';
import {
  countByStatus,
  findSensor,
  insertSensor,
  isSilentLive,
  listSensors,
  lockSensor,
  secretHash,
  sensorId,
  findSensors,
  sensorsChangedSince,
  setSecretHash,
  silentLiveSensors,
} from '../../storage/sensors.repo.js';
import { listTransitions } from '../../storage/status-history.repo.js';
import { sensorStanding, setRevoked } from '../../storage/sensor-revocation.repo.js';
import { Lru } from '@pcapmesh/shared/util/lru';

import { conflict, invalid, notFound } from '../errors.js';
import type { DomainEvents } from '../events.js';
import { FleetView } from './fleet-view.js';
import { SensorIngest, type SensorBatchSettings, type SensorItemResult, type TrafficSink } from './sensor-ingest.js';
import type { SensorItem } from './sensor-batch.js';
import { transition } from './sensor-status.js';
import { toDeviceView, toSensorView } from './sensor-views.js';
import {
  SENSOR_STATUSES,
  type ActivityEntry,
  type DeviceView,
  type HealthPoint,
  type IngestOutcome,
  type LocationView,
  type SensorStatus,
  type SensorStatusView,
  type SensorView,
} from './sensors.types.js';

/** How long SensorService.standing() trusts an answer. */
const STANDING_CACHE_MS = 5_000;
/**
 * PostgreSQL only (other collectors may write the same sensors): the fleet view re-reads the rows
 * changed since its last look at most this often, in the background of a read.
 */
const FLEET_REFRESH_MS = 2_000;
/** A refresh re-reads this much before its last look (a transaction's updated_at is its start time). */
const FLEET_REFRESH_OVERLAP_MS = 10_000;

export interface SensorServiceDeps {
  db: Db;
  events: DomainEvents;
  log: Logger;
  /** config.ingest.heartbeatTimeoutSeconds: a live sensor silent this long goes offline. */
  heartbeatTimeoutSeconds: number;
  /** Clock (tests). Default () => new Date(). */
  now?: () => Date;
  /** Where traffic messages' new flows also go (the network view: NetworkService). */
  network?: TrafficSink;
  /** Budget for checks against legacy argon2 secret hashes (default: the process-wide one). */
  legacy?: LegacyVerifier;
  /** How state/health/availability messages are batched (tests; defaults in sensor-ingest.ts). */
  sensorBatch?: Partial<SensorBatchSettings>;
}

/** Secret of a sensor: 32 random bytes, base64url. */
function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export class SensorService {
  private readonly ingest: SensorIngest;
  private readonly now: () => Date;
  private readonly startedAt: Date;
  /** A hash to compare with for unknown names, so they cost the same as known ones. */
  private readonly decoyHash = hashMachineSecret(newSecret());
  private readonly legacy: LegacyVerifier;
  /** standing() answers, bounded and short-lived. */
  private readonly standings = new Lru<string, 'active' | 'revoked' | 'unknown'>({ maxEntries: 20_000, defaultTtlMs: STANDING_CACHE_MS });
  /** Every sensor's view in memory (fleet-view.ts): list/get/status answer from it once loaded. */
  private readonly fleet = new FleetView();
  private fleetLoading: Promise<void> | null = null;
  private fleetRefresh: { at: number; running: Promise<void> | null; since: Date } = { at: 0, running: null, since: new Date(0) };

  constructor(private readonly deps: SensorServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.startedAt = this.now();
    this.ingest = new SensorIngest({
      db: deps.db,
      events: deps.events,
      log: deps.log,
      now: this.now,
      network: deps.network,
      sensorBatch: deps.sensorBatch,
      fleet: this.fleet,
    });
    this.legacy = deps.legacy ?? sharedLegacyVerifier;
  }

  /** Registers a sensor; returns it and its secret (shown once). invalid: bad name; conflict: name taken. */
  async register(input: { name: string; location?: string }): Promise<{ sensor: SensorView; secret: string }> {
    if (!isValidSensorName(input.name)) {
      throw invalid(`invalid sensor name ${JSON.stringify(input.name)}: use a-z, 0-9, '.', '_', '-' (1-63 characters, starting with a letter or digit)`);
    }
    const location = input.location?.trim();
    if (location !== undefined && (location === '' || location.length > 256)) throw invalid('location must be 1-256 characters');
    const secret = newSecret();
    const secretHashed = hashMachineSecret(secret);
    try {
      await this.deps.db.transaction(async (tx) => {
        const locationId = location ? await ensureLocation(tx, location) : null;
        await insertSensor(tx, { name: input.name, locationId, secretHash: secretHashed });
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw conflict(`sensor ${input.name} already exists`);
      throw new Error(`cannot register sensor ${input.name}`, { cause: err });
    }
    this.deps.log.info({ sensor: input.name, location: location ?? null }, 'sensor registered');
    const sensor = await this.read(input.name);
    if (this.fleet.loaded) this.fleet.put(sensor);
    return { sensor, secret };
  }

  /** A new secret for `name`; the old one is invalid at once and a revoke is lifted. not_found if unknown. */
  async rotateSecret(name: string): Promise<string> {
    const secret = newSecret();
    await this.replaceSecret(name, hashMachineSecret(secret), null);
    this.deps.log.info({ sensor: name }, 'sensor secret rotated');
    return secret;
  }

  /**
   * No secret of `name` works any more and it is marked revoked, so ingest refuses its messages
   * even when an external broker still lets it publish (standing()). Lifted by rotateSecret.
   */
  async revokeSecret(name: string): Promise<void> {
    await this.replaceSecret(name, hashMachineSecret(newSecret()), this.now());
    this.deps.log.info({ sensor: name }, 'sensor revoked');
  }

  /**
   * 'active', 'revoked' or 'unknown' (not registered), for ingest's gate. Cached per sensor for
   * STANDING_CACHE_MS (a revoke or rotate in this process updates the cache at once; another
   * collector sharing the database sees it within that time).
   */
  async standing(name: string): Promise<'active' | 'revoked' | 'unknown'> {
    const cached = this.standings.get(name);
    if (cached !== undefined) return cached;
    const standing = await sensorStanding(this.deps.db, name);
    this.standings.set(name, standing);
    return standing;
  }

  private async replaceSecret(name: string, hash: string, revokedAt: Date | null): Promise<void> {
    const found = await this.deps.db.transaction(async (tx) => (await setSecretHash(tx, name, hash)) && (await setRevoked(tx, name, revokedAt)));
    if (!found) throw notFound(`sensor ${name}`);
    this.standings.set(name, revokedAt === null ? 'active' : 'revoked');
  }

  /**
   * Checks a sensor's secret against its stored SHA-256 (constant time; machine-secrets.ts).
   * A legacy argon2 hash is verified within the LegacyVerifier budget (over budget → false) and,
   * when it matches, rewritten as SHA-256. Unknown sensor or malformed stored hash → false.
   */
  async verifySecret(name: string, secret: string): Promise<boolean> {
    const stored = await secretHash(this.deps.db, name);
    if (stored === null || isSha256Hash(stored)) {
      const ok = matchesSha256(stored ?? this.decoyHash, secret);
      return stored !== null && ok;
    }
    const ok = await this.legacy.verify(stored, secret);
    if (ok === 'throttled') this.deps.log.warn({ sensor: name }, 'sensor secret check against a legacy hash over budget; refused unchecked');
    if (ok !== true) return false;
    await setSecretHash(this.deps.db, name, hashMachineSecret(secret));
    this.deps.log.info({ sensor: name }, 'sensor secret hash upgraded from argon2 to SHA-256');
    return true;
  }

  /** Birth or last will / shutdown. 'stale': a will older than the current session (bdSeq rule). */
  ingestState(sensor: string, msg: StateMessage): Promise<IngestOutcome> {
    return this.ingest.state(sensor, msg);
  }

  /** Health sample (stored once), last seen, disks, devices, online/degraded. */
  ingestHealth(sensor: string, msg: HealthMessage): Promise<IngestOutcome> {
    return this.ingest.health(sensor, msg);
  }

  /** PCAP availability: oldest/newest over all sources plus the per-source detail. */
  ingestPcap(sensor: string, msg: PcapMessage): Promise<IngestOutcome> {
    return this.ingest.pcap(sensor, msg);
  }

  /**
   * State, health and availability messages in order, stored in one batch (sensor-ingest.ts
   * `group`): one result per message once that batch committed; rejects when it failed.
   */
  ingestSensorMessages(items: readonly SensorItem[]): Promise<SensorItemResult[]> {
    return this.ingest.group(items);
  }

  /** Traffic by subnet pair for one interval. */
  ingestTraffic(sensor: string, msg: TrafficMessage): Promise<IngestOutcome> {
    return this.ingest.traffic(sensor, msg);
  }

  /**
   * Marks offline ('heartbeat timeout') every online/degraded sensor silent for longer than the
   * heartbeat timeout. Silence before this service started does not count (after a collector
   * restart every sensor gets one full timeout to report). Returns the names marked offline.
   */
  async sweepHeartbeats(now: Date = this.now()): Promise<string[]> {
    const timeoutMs = this.deps.heartbeatTimeoutSeconds * 1000;
    const cutoff = new Date(now.getTime() - timeoutMs);
    if (this.startedAt.getTime() > cutoff.getTime()) return [];
    const marked: string[] = [];
    for (const name of await silentLiveSensors(this.deps.db, cutoff)) {
      const event = await this.deps.db.transaction(async (tx): Promise<SensorStatusEvent | null> => {
        const row = await lockSensor(tx, name);
        if (!row || !(await isSilentLive(tx, row.id, cutoff))) return null; // a message arrived meanwhile
        return transition(tx, row, 'offline', 'heartbeat timeout', now);
      });
      if (event) {
        this.fleet.apply([{ name, status: { status: event.status, reason: event.reason, since: new Date(event.at) } }]);
        marked.push(name);
        this.deps.log.info({ sensor: name, status: 'offline', previous: event.previous, reason: event.reason }, 'sensor status changed');
        this.deps.events.emit('sensor.status', event);
      }
    }
    return marked;
  }

  /**
   * Every sensor by name, each with its newest health sample: from the fleet view (loaded from the
   * database on first use, two queries whatever the fleet's size; then kept current by ingest).
   */
  async list(): Promise<SensorView[]> {
    await this.fleetReady();
    return this.fleet.list();
  }

  /** not_found if unknown. From the fleet view; a sensor it does not hold yet (registered by another collector) is read from the database. */
  async get(name: string): Promise<SensorView> {
    await this.fleetReady();
    const view = this.fleet.get(name);
    if (view) return view;
    const read = await this.read(name);
    this.fleet.put(read);
    return read;
  }

  async status(name: string): Promise<SensorStatusView> {
    const s = await this.get(name);
    return { name: s.name, status: s.status, reason: s.statusReason, since: s.statusChangedAt, lastSeen: s.lastSeen };
  }

  /** Loads the fleet view now (at collector start) rather than on the first read. */
  async loadFleetView(): Promise<number> {
    await this.fleetReady();
    return this.fleet.size;
  }

  /** One sensor from the database. not_found if unknown. */
  private async read(name: string): Promise<SensorView> {
    const row = await findSensor(this.deps.db, name);
    if (!row) throw notFound(`sensor ${name}`);
    const [latest] = await latestHealthSamples(this.deps.db, [row.id]);
    return toSensorView(row, latest);
  }

  /** Loads the fleet view once; on PostgreSQL starts a background refresh when the last is older than FLEET_REFRESH_MS. */
  private async fleetReady(): Promise<void> {
    if (!this.fleet.loaded) {
      this.fleetLoading ??= this.loadFleet().finally(() => (this.fleetLoading = null));
      await this.fleetLoading;
      return;
    }
    const r = this.fleetRefresh;
    if (this.deps.db.kind !== 'postgres' || r.running !== null || Date.now() - r.at < FLEET_REFRESH_MS) return;
    r.running = this.refreshFleet()
      .catch((err: unknown) => this.deps.log.warn({ err }, 'refreshing the fleet view failed; it is tried again on the next read'))
      .finally(() => (r.running = null));
  }

  private async loadFleet(): Promise<void> {
    const startedAt = new Date(Date.now() - FLEET_REFRESH_OVERLAP_MS);
    this.fleet.beginLoad();
    try {
      const rows = await listSensors(this.deps.db);
      const latest = new Map(
        (
          await latestHealthSamples(
            this.deps.db,
            rows.map((r) => r.id),
          )
        ).map((h) => [h.sensorId, h]),
      );
      this.fleet.load(rows.map((r) => toSensorView(r, latest.get(r.id))));
      this.fleetRefresh = { at: Date.now(), running: null, since: startedAt };
      this.deps.log.info({ sensors: rows.length }, 'fleet view loaded');
    } catch (err) {
      this.fleet.abortLoad();
      throw err;
    }
  }

  /**
   * Re-reads the sensors another writer changed since the last look (status, reason or last seen
   * differ from the view) and puts them in the view, unless this process changed them meanwhile.
   */
  private async refreshFleet(): Promise<void> {
    const startedAt = new Date(Date.now() - FLEET_REFRESH_OVERLAP_MS);
    const mark = this.fleet.mark();
    const changed = (await sensorsChangedSince(this.deps.db, this.fleetRefresh.since)).filter((r) => {
      const v = this.fleet.get(r.name);
      return !v || v.status !== r.status || v.statusReason !== r.statusReason || v.lastSeen !== (r.lastSeen?.toISOString() ?? null);
    });
    if (changed.length > 0) {
      const rows = await findSensors(
        this.deps.db,
        changed.map((r) => r.name),
      );
      const latest = new Map(
        (
          await latestHealthSamples(
            this.deps.db,
            rows.map((r) => r.id),
          )
        ).map((h) => [h.sensorId, h]),
      );
      for (const r of rows) this.fleet.put(toSensorView(r, latest.get(r.id)), mark);
    }
    this.fleetRefresh = { at: Date.now(), running: null, since: startedAt };
  }

  async devices(name: string): Promise<DeviceView[]> {
    return (await listDevices(this.deps.db, await this.idOf(name))).map(toDeviceView);
  }

  /**
   * Health time series in [from, to): at most `maxPoints` points (1..10000), each the average of
   * the samples in its bucket (disk: the maximum). invalid when the range is empty or reversed.
   */
  async healthSeries(name: string, from: Date, to: Date, maxPoints = 500): Promise<HealthPoint[]> {
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw invalid('from and to must be valid times');
    if (from.getTime() >= to.getTime()) throw invalid('from must be before to');
    if (!Number.isInteger(maxPoints) || maxPoints < 1 || maxPoints > 10_000) throw invalid('maxPoints must be an integer 1..10000');
    const id = await this.idOf(name);
    const bucketSeconds = Math.max(0.001, (to.getTime() - from.getTime()) / 1000 / maxPoints);
    const rows = await healthBuckets(this.deps.db, id, from, to, bucketSeconds);
    return rows.map((r) => ({
      at: r.at.toISOString(),
      cpu: r.cpu,
      memoryUsed: r.memoryUsed,
      memoryTotal: r.memoryTotal,
      load1: r.load1,
      diskUsedPercent: r.diskUsedPercent,
      samples: r.samples,
    }));
  }

  /** Status transitions across sensors, newest first. limit 1..1000. */
  async activity(opts: { since?: Date; limit: number; sensor?: string }): Promise<ActivityEntry[]> {
    if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > 1000) throw invalid('limit must be an integer 1..1000');
    if (opts.since && Number.isNaN(opts.since.getTime())) throw invalid('since must be a valid time');
    const id = opts.sensor === undefined ? undefined : await this.idOf(opts.sensor);
    const rows = await listTransitions(this.deps.db, { since: opts.since ?? null, limit: opts.limit, ...(id ? { sensorId: id } : {}) });
    return rows.map((r) => ({ sensor: r.sensor, from: r.from as SensorStatus, to: r.to as SensorStatus, reason: r.reason, at: r.at.toISOString() }));
  }

  async locations(): Promise<LocationView[]> {
    return listLocations(this.deps.db);
  }

  /** Number of sensors per status; every status present (0 when none). */
  async statusCounts(): Promise<Record<SensorStatus, number>> {
    const counts = Object.fromEntries(SENSOR_STATUSES.map((s) => [s, 0])) as Record<SensorStatus, number>;
    for (const { status, n } of await countByStatus(this.deps.db)) counts[status as SensorStatus] = n;
    return counts;
  }

  private async idOf(name: string): Promise<number> {
    const id = await sensorId(this.deps.db, name);
    if (id === null) throw notFound(`sensor ${name}`);
    return id;
  }
}
