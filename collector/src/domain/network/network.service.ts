/**
 * The network view (docs/architecture.md "Network"): traffic by subnet pair per location, the
 * learned subnet → location map with admins' pins, locations' coordinates, and the location cache.
 *
 * - Ingest: `recordTraffic(tx, ...)` runs inside a traffic batch's transaction
 *   (sensors/sensor-ingest.ts) with the messages of located sensors: it stores each (minute,
 *   sensor, part, pair) row once in the location's table (a replay adds nothing) and sums the new
 *   rows into the rollups (minute totals, hourly pairs) and the pair evidence. Sensors without a
 *   location are stored in traffic_samples by the ingest, not here. The first traffic of a location creates its table;
 *   `afterCommit` then has the partition manager make its day partitions.
 * - Learning: `learn()` (every network.learnIntervalSeconds) applies the rule of subnet-map.ts
 *   and emits `network.subnet` for each subnet learned or moved.
 * - Reads (`traffic`, `subnets`, `locations`) are for viewers; `pin`, `unpin`, `updateLocation`
 *   and `clearCache` for admins, audited. Bad input throws DomainError('invalid') naming the field.
 */
import type { CacheStore } from '../../cache/store.js';
import type { Logger } from '../../log.js';
import type { Db, Queryable } from '../../storage/db.js';
import { bumpCacheVersion, cacheVersion, getSubnet, listSubnets, locateNets, pinSubnet, unpinSubnet, type SubnetRow } from '../../storage/network-map.repo.js';
import { addPairs } from '../../storage/network-map.repo.js';
import { locationIdByName, networkLocations, upsertLocationDetails, type LocationDetails } from '../../storage/network-locations.repo.js';
import {
  addRollups,
  ensureLocationTrafficTable,
  insertNewRows,
  insertRows,
  interLocationFlows,
  netIds,
  netsOf,
  locationTotals,
  locationTrafficTable,
  rowsInsertedNow,
  storedKeys,
  topPairs,
  trafficSeries,
} from '../../storage/network-traffic.repo.js';
import { PartitionManager } from '../../storage/partitions.js';
import type { AuditService } from '../accounts/audit.service.js';
import type { NewTraffic, TrafficRecorded } from '../sensors/sensor-ingest.js';
import { foldTraffic, type FoldInput, type Folded } from '../../storage/traffic-fold.js';
import { invalid, notFound } from '../errors.js';
import type { DomainEvents } from '../events.js';
import { canonicalCidr } from './cidr.js';
import { CACHE_KEYS, LocationCache } from './location-cache.js';
import { changeOf, learnPass, type LearnReport } from './network-learning.js';
import { effectiveOf } from './subnet-map.js';
import type { NetworkLocationsView, NetworkSettings, SubnetView, TrafficQuery, TrafficView } from './network.types.js';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** Buckets a series may use, seconds; the default is the smallest that gives at most 1,440 points. */
const BUCKETS = [60, 300, 900, 3600, 21_600, 86_400];
const MAX_POINTS = 10_000;
/** Subnet ids remembered (network_nets ids are final): beyond this many the memory starts over. */
const NET_ID_CACHE = 200_000;

/** What recordTraffic hands the ingest for afterCommit: also the subnet ids it used (final once committed). */
interface NetworkRecorded extends NonNullable<TrafficRecorded> {
  nets: ReadonlyMap<string, number>;
}
const withNets = (r: TrafficRecorded): r is NetworkRecorded => r !== null && 'nets' in r;

export interface NetworkServiceDeps {
  db: Db;
  cache: Pick<CacheStore, 'get' | 'set' | 'del'>;
  events: DomainEvents;
  audit: Pick<AuditService, 'record'>;
  log: Logger;
  settings: NetworkSettings;
  /** Partition maintenance of the per-location tables: retention.trafficDays and retention.partitionsAhead. */
  partitions: { retentionDays: number; ahead: number };
  now?: () => Date;
}

/** Who asks, for the audit log. */
export interface NetworkActor {
  actor: string | null;
  sourceIp?: string | null;
}

export class NetworkService {
  readonly cache: LocationCache;
  private readonly now: () => Date;
  /** Locations whose traffic table is known to exist. */
  private readonly tables = new Set<number>();
  /** Subnet text → network_nets id, of committed transactions only (afterCommit). */
  private readonly netIdCache = new Map<string, number>();

  constructor(private readonly deps: NetworkServiceDeps) {
    this.cache = new LocationCache(deps.cache, deps.settings.cacheSeconds, () => cacheVersion(deps.db));
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Stores a traffic batch's messages of located sensors (inside the ingest transaction) and
   * returns, per message (same order), how many of its rows were new. Each message's flows are
   * made canonical and folded (storage/traffic-fold.ts) into one base row per (location, minute,
   * sensor, part, pair); the base rows go into network_traffic — those of a (sensor, minute, part)
   * with no rows yet by a plain INSERT, the others with ON CONFLICT DO NOTHING, so a replayed row
   * adds nothing (this is the replay check, sql/0018; a replay racing its original in another
   * transaction fails the batch on the primary key, and its resend finds the rows); the new rows' sums then go to
   * the rollups (minute totals, hourly pairs) and the pair evidence, one multi-row upsert each.
   * When a message was stored in part before, its new rows are read back. Contract: no two
   * messages of a batch share (sensor, minute, part) — the ingest queue per sensor guarantees it.
   * Pass `recorded` to `afterCommit` once the transaction committed (a location's table is known
   * to exist only then).
   */
  async recordTraffic(tx: Queryable, batch: readonly NewTraffic[]): Promise<{ recorded: TrafficRecorded; stored: number[] }> {
    if (batch.length === 0) return { recorded: null, stored: [] };
    const createdTables: number[] = [];
    for (const locationId of [...new Set(batch.map((b) => b.locationId))].sort((x, y) => x - y)) {
      if (!this.tables.has(locationId) && (await ensureLocationTrafficTable(tx, locationId))) createdTables.push(locationId);
    }
    // Sensors of a location report the same subnets: each text is made canonical once a batch.
    const canonical = new Map<string, string>();
    const canon = (net: string): string => {
      let c = canonical.get(net);
      if (c === undefined) canonical.set(net, (c = canonicalCidr(net)));
      return c;
    };
    const inputs: FoldInput[] = batch.map((b) => ({
      locationId: b.locationId,
      sensorId: b.sensorId,
      intervalStart: b.intervalStart,
      part: rowPart(b),
      flows: b.flows.map((f) => ({ src: canon(f.srcNet), dst: canon(f.dstNet), packets: f.packets, bytes: f.bytes })),
    }));
    const folded = foldTraffic(inputs);
    // Subnet ids: remembered ones, the rest from network_nets (added when new) in this transaction.
    const nets = new Map<string, number>();
    const unknown: string[] = [];
    for (const net of netsOf(folded)) {
      const id = this.netIdCache.get(net);
      if (id === undefined) unknown.push(net);
      else nets.set(net, id);
    }
    for (const [net, id] of await netIds(tx, unknown)) nets.set(net, id);
    const keyOf = (sensorId: number, minute: Date, part: string) => `${sensorId}|${Math.floor(minute.getTime() / MINUTE_MS)}|${part}`;
    const rowsOf = new Map<string, number>();
    for (const r of folded.rows) {
      const k = keyOf(r.sensorId, r.minute, r.part);
      rowsOf.set(k, (rowsOf.get(k) ?? 0) + 1);
    }
    // Messages whose (sensor, minute, part) has no rows yet (the usual case) are inserted without a
    // conflict check, all their rows new; the others skip what is stored (ON CONFLICT DO NOTHING).
    const rowKeys = new Map<string, { locationId: number; minute: Date; sensorId: number; part: string }>();
    for (const r of folded.rows) {
      const k = keyOf(r.sensorId, r.minute, r.part);
      if (!rowKeys.has(k)) rowKeys.set(k, { locationId: r.locationId, minute: r.minute, sensorId: r.sensorId, part: r.part });
    }
    const keyList = [...rowKeys.keys()];
    const seen = new Set([...(await storedKeys(tx, [...rowKeys.values()]))].map((i) => keyList[i]!));
    const plain = folded.rows.filter((r) => !seen.has(keyOf(r.sensorId, r.minute, r.part)));
    await insertRows(tx, plain, nets);
    const storedOf = new Map(keyList.filter((k) => !seen.has(k)).map((k) => [k, rowsOf.get(k) ?? 0]));
    const checked = seen.size === 0 ? [] : folded.rows.filter((r) => seen.has(keyOf(r.sensorId, r.minute, r.part)));
    for (const c of await insertNewRows(tx, checked, nets)) storedOf.set(keyOf(c.sensorId, new Date(c.minute), c.part), c.n);
    const keys = batch.map((b) => keyOf(b.sensorId, b.intervalStart, rowPart(b)));
    const stored = keys.map((k) => storedOf.get(k) ?? 0);
    let add: Folded = folded;
    if (keys.some((k, i) => stored[i] !== (rowsOf.get(k) ?? 0))) {
      // Some message was a replay, whole or in part: the rollups get only what is new.
      const fresh: FoldInput[] = [];
      for (const [i, input] of inputs.entries()) {
        const n = stored[i]!;
        if (n === 0) continue;
        if (n === (rowsOf.get(keys[i]!) ?? 0)) fresh.push(input);
        else {
          const minute = new Date(Math.floor(input.intervalStart.getTime() / MINUTE_MS) * MINUTE_MS);
          fresh.push({
            ...input,
            flows: await rowsInsertedNow(tx, { locationId: input.locationId, minute, sensorId: input.sensorId, part: input.part ?? '' }),
          });
        }
      }
      add = foldTraffic(fresh);
    }
    await addRollups(tx, add, nets);
    await addPairs(tx, add.pairs);
    const recorded: NetworkRecorded = { locations: [...new Set(batch.map((x) => x.locationId))], createdTables, nets };
    return { recorded, stored };
  }

  /** After the ingest transaction committed: remembers the locations' tables; new ones get their day partitions from the partition manager. */
  async afterCommit(recorded: TrafficRecorded): Promise<void> {
    if (recorded === null) return;
    for (const id of recorded.locations) this.tables.add(id);
    if (withNets(recorded)) {
      if (this.netIdCache.size + recorded.nets.size > NET_ID_CACHE) this.netIdCache.clear();
      for (const [net, id] of recorded.nets) this.netIdCache.set(net, id);
    }
    if (recorded.createdTables.length === 0) return;
    this.deps.log.info({ locationIds: recorded.createdTables }, 'network traffic table created for a location');
    const pm = new PartitionManager({
      db: this.deps.db,
      log: this.deps.log,
      ahead: this.deps.partitions.ahead,
      tables: recorded.createdTables.map((id) => ({ table: locationTrafficTable(id), column: 'minute', retentionDays: this.deps.partitions.retentionDays })),
    });
    await pm.run(this.now());
  }

  /**
   * Where the subnet map puts each network (CIDR text; SubnetLocator of the jobs planner): a
   * location, or null when its most specific subnet is external or ambiguous or none contains it.
   */
  async locate(nets: readonly string[]): Promise<Map<string, string | null>> {
    const found = await locateNets(this.deps.db, nets);
    return new Map(nets.map((n) => [n, found.get(n) ?? null]));
  }

  /** One learning pass; emits `network.subnet` for each change and refreshes the cache. */
  async learn(): Promise<LearnReport> {
    const report = await learnPass(this.deps.db, this.now(), this.deps.settings.learnWindowDays, {
      externalMinLocations: this.deps.settings.externalMinLocations,
    });
    if (report.skipped) return report;
    await this.cache.invalidate();
    for (const event of report.events) {
      this.deps.log.info({ subnet: event.subnet, change: event.change, state: event.state, location: event.location }, 'subnet map changed');
      this.deps.events.emit('network.subnet', event);
    }
    return report;
  }

  /** The map: pinned subnets and those seen within the learning window (cached). */
  async subnets(filter: { location?: string | undefined; state?: string | undefined } = {}): Promise<SubnetView[]> {
    const all = await this.cache.get(CACHE_KEYS.subnets, async () => {
      const since = new Date(this.now().getTime() - this.deps.settings.learnWindowDays * DAY_MS);
      return (await listSubnets(this.deps.db, since)).map(subnetView);
    });
    return all.filter((s) => (filter.location === undefined || s.location === filter.location) && (filter.state === undefined || s.state === filter.state));
  }

  async traffic(q: TrafficQuery): Promise<TrafficView> {
    const { from, to } = this.window(q.from, q.to, 3_600_000);
    const span = to.getTime() - from.getTime();
    const bucketSeconds = q.bucketSeconds ?? BUCKETS.find((b) => span / (b * 1000) <= 1440) ?? 86_400;
    if (span / (bucketSeconds * 1000) > MAX_POINTS) throw invalid(`bucket: ${bucketSeconds} s gives more than ${MAX_POINTS} points over this window`);
    let locationId: number | null = null;
    if (q.location !== undefined) {
      locationId = await locationIdByName(this.deps.db, q.location);
      if (locationId === null) throw notFound(`location ${q.location}`);
    }
    const filter = { from, to, locationId, subnet: q.subnet ?? null };
    const series = await trafficSeries(this.deps.db, filter, bucketSeconds);
    const top = await topPairs(this.deps.db, filter, q.top ?? 20);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      bucketSeconds,
      location: q.location ?? null,
      subnet: q.subnet ?? null,
      totals: { packets: series.reduce((n, p) => n + p.packets, 0), bytes: series.reduce((n, p) => n + p.bytes, 0) },
      series: series.map((p) => ({ at: new Date(p.at).toISOString(), packets: p.packets, bytes: p.bytes })),
      top,
    };
  }

  /**
   * Locations with coordinates, sensors, the subnets mapped there and their traffic totals, and
   * the flows between them, over [from, to) (default: the last 24 hours, served from the cache).
   */
  async locations(q: { from?: Date | undefined; to?: Date | undefined } = {}): Promise<NetworkLocationsView> {
    if (q.from === undefined && q.to === undefined) {
      return this.cache.get(CACHE_KEYS.locations, () => {
        const to = this.now();
        return this.loadLocations(new Date(to.getTime() - DAY_MS), to);
      });
    }
    const { from, to } = this.window(q.from, q.to, DAY_MS);
    return this.loadLocations(from, to);
  }

  private async loadLocations(from: Date, to: Date): Promise<NetworkLocationsView> {
    const db = this.deps.db;
    const totals = new Map((await locationTotals(db, from, to)).map((t) => [t.locationId, t]));
    const mapped = new Map<string, number>();
    for (const s of await this.subnets()) if (s.location !== null) mapped.set(s.location, (mapped.get(s.location) ?? 0) + 1);
    const locations = (await networkLocations(db)).map((l) => ({
      name: l.name,
      description: l.description,
      latitude: l.latitude,
      longitude: l.longitude,
      sensors: l.sensors,
      online: l.online,
      subnets: mapped.get(l.name) ?? 0,
      packets: totals.get(l.id)?.packets ?? 0,
      bytes: totals.get(l.id)?.bytes ?? 0,
    }));
    return { from: from.toISOString(), to: to.toISOString(), locations, flows: await interLocationFlows(db, from, to) };
  }

  /** Pins `subnet` (canonical CIDR) to an existing location; a pin wins over learning. */
  async pin(subnet: string, location: string, by: NetworkActor): Promise<SubnetView> {
    const { before, after } = await this.deps.db.transaction(async (tx) => {
      const locationId = await locationIdByName(tx, location);
      if (locationId === null) throw notFound(`location ${location}`);
      const before = await getSubnet(tx, subnet);
      await pinSubnet(tx, subnet, locationId, by.actor, this.now());
      await bumpCacheVersion(tx);
      return { before, after: (await getSubnet(tx, subnet))! };
    });
    await this.changed('pinned', before, after, by, { location });
    return subnetView(after);
  }

  /** Removes a pin: learning's verdict applies again. */
  async unpin(subnet: string, by: NetworkActor): Promise<void> {
    const { before, after } = await this.deps.db.transaction(async (tx) => {
      const before = await getSubnet(tx, subnet);
      if (!(await unpinSubnet(tx, subnet, this.now()))) throw notFound(`pin of subnet ${subnet}`);
      await bumpCacheVersion(tx);
      return { before, after: await getSubnet(tx, subnet) };
    });
    await this.changed('unpinned', before, after, by, {});
  }

  /** Sets a location's coordinates and description (the location is created when new). */
  async updateLocation(name: string, details: LocationDetails, by: NetworkActor): Promise<void> {
    const { latitude, longitude } = details;
    if (latitude !== undefined && latitude !== null && !(latitude >= -90 && latitude <= 90)) throw invalid('latitude: must be between -90 and 90');
    if (longitude !== undefined && longitude !== null && !(longitude >= -180 && longitude <= 180)) throw invalid('longitude: must be between -180 and 180');
    const created = await this.deps.db.transaction(async (tx) => {
      const created = await upsertLocationDetails(tx, name, details);
      await bumpCacheVersion(tx);
      return created;
    });
    await this.deps.audit.record({
      actor: by.actor,
      sourceIp: by.sourceIp ?? null,
      action: 'location.update',
      target: name,
      outcome: 'ok',
      details: { ...details, created },
    });
    await this.cache.invalidate();
  }

  /** Empties the location cache (the next reads refill it); returns how many entries it held. */
  async clearCache(by: NetworkActor): Promise<number> {
    const cleared = await this.cache.clear();
    await this.deps.audit.record({
      actor: by.actor,
      sourceIp: by.sourceIp ?? null,
      action: 'network.cache.clear',
      target: null,
      outcome: 'ok',
      details: { cleared },
    });
    return cleared;
  }

  private async changed(
    change: 'pinned' | 'unpinned',
    before: SubnetRow | null,
    after: SubnetRow | null,
    by: NetworkActor,
    details: Record<string, unknown>,
  ): Promise<void> {
    const subnet = (after ?? before)!.subnet;
    await this.deps.audit.record({
      actor: by.actor,
      sourceIp: by.sourceIp ?? null,
      action: `network.subnet.${change === 'pinned' ? 'pin' : 'unpin'}`,
      target: subnet,
      outcome: 'ok',
      details,
    });
    await this.cache.invalidate();
    const moved = after ? changeOf(before ?? undefined, after, this.now()) : null;
    const prev = before ? effectiveOf(before) : null;
    const event =
      moved ??
      (after === null && prev
        ? {
            type: 'network.subnet' as const,
            subnet,
            state: 'unseen' as const,
            location: null,
            previousState: prev.state,
            previousLocation: prev.location,
            confidence: null,
            at: this.now().toISOString(),
            change,
          }
        : null);
    if (event) this.deps.events.emit('network.subnet', { ...event, change });
  }

  /** from/to with defaults (to = now, from = to − defaultSpan), checked: from ≤ to, span ≤ network.maxWindowDays. */
  private window(fromIn: Date | undefined, toIn: Date | undefined, defaultSpanMs: number): { from: Date; to: Date } {
    const to = toIn ?? this.now();
    const from = fromIn ?? new Date(to.getTime() - defaultSpanMs);
    if (from.getTime() > to.getTime()) throw invalid('from: must not be after to');
    const maxDays = this.deps.settings.maxWindowDays;
    if (to.getTime() - from.getTime() > maxDays * DAY_MS) throw invalid(`from: the window from–to exceeds network.maxWindowDays (${maxDays} days)`);
    return { from, to };
  }
}

/**
 * The `part` of a message's base rows: its part, plus the interval's offset into the minute when it
 * does not start on one (docs/mqtt.md asks for whole minutes; a sender that splits a minute into
 * intervals keeps each interval's rows apart, so they add up instead of counting as replays).
 */
function rowPart(b: { intervalStart: Date; part: string }): string {
  const offset = b.intervalStart.getTime() % MINUTE_MS;
  return offset === 0 ? b.part : `${b.part}+${offset}ms`;
}

function iso(d: Date | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}

export function subnetView(r: SubnetRow): SubnetView {
  const eff = effectiveOf(r);
  return {
    subnet: r.subnet,
    state: eff.state,
    location: eff.location,
    learned: { state: r.state, location: r.state === 'learned' ? r.location : null, confidence: r.confidence },
    locations: r.locations,
    packets: r.packets,
    bytes: r.bytes,
    firstSeen: iso(r.firstSeen),
    lastSeen: iso(r.lastSeen),
    pinned: r.pinnedLocation === null ? null : { location: r.pinnedLocation, by: r.pinnedBy, at: iso(r.pinnedAt)! },
  };
}
