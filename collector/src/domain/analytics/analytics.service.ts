/**
 * Analytics over a window (GET /analytics/sensors, /analytics/jobs, /analytics/traffic; read):
 *
 * - sensors: PCAP retention in days (newest − oldest packet on disk, from availability), coverage
 *   % of the window by the files on disk (jobs/planner.ts availabilityOf, gaps excluded), drop
 *   rates from the health samples' counters (capture process drops and interface rx drops; resets
 *   handled, storage/analytics.repo.ts), uptime % from the status history. Default window: the
 *   last 24 hours.
 * - jobs: jobs per UTC day by outcome, bytes retrieved per day (job_downloads), median and p90
 *   seconds from submission to result. Default: the last 30 days.
 * - traffic: bytes by location over time and the top subnet pairs, from the network view's
 *   per-location tables. Default: the last 24 hours; bucket as GET /network/traffic.
 *
 * Bad input throws DomainError('invalid') naming the field: from after to, a window longer than
 * analytics.maxWindowDays, a bucket giving too many points; an unknown location is not_found.
 */
import type { Db } from '../../storage/db.js';
import {
  bytesByLocation,
  counterDeltas,
  downloadsPerDay,
  jobsPerDay,
  sensorRefs,
  statusTimeline,
  timeToResult,
  type CounterDeltaRow,
  type TransitionRow,
} from '../../storage/analytics.repo.js';
import { locationIdByName } from '../../storage/network-locations.repo.js';
import { topPairs } from '../../storage/network-traffic.repo.js';
import { invalid, notFound } from '../errors.js';
import { availabilityOf } from '../jobs/planner.js';
import { nsOfDate } from '../jobs/window.js';
import type { SensorView } from '../sensors/sensors.types.js';
import type { DropView, JobsAnalyticsView, JobsDayView, SensorsAnalyticsView, TrafficAnalyticsView, TrafficQuery, WindowQuery } from './analytics.types.js';

export type * from './analytics.types.js';

const DAY_MS = 86_400_000;
const BUCKETS = [60, 300, 900, 3600, 21_600, 86_400];
const MAX_POINTS = 10_000;
const UP = new Set(['online', 'degraded']);

export interface AnalyticsSettings {
  /** Longest from–to window (analytics.maxWindowDays). */
  maxWindowDays: number;
}

export interface AnalyticsServiceDeps {
  db: Db;
  sensors: { list(): Promise<SensorView[]> };
  settings: AnalyticsSettings;
  now?: () => Date;
}

export class AnalyticsService {
  private readonly now: () => Date;

  constructor(private readonly deps: AnalyticsServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async sensors(q: WindowQuery): Promise<SensorsAnalyticsView> {
    const { from, to } = this.window(q, DAY_MS);
    const now = this.now();
    const db = this.deps.db;
    const [views, refs, capture, iface, timeline] = [
      await this.deps.sensors.list(),
      await sensorRefs(db),
      await counterDeltas(db, 'capture', from, to),
      await counterDeltas(db, 'interface', from, to),
      await statusTimeline(db, from, to),
    ];
    const byName = new Map(views.map((v) => [v.name, v]));
    const window = { from: nsOfDate(from), to: nsOfDate(to) };
    const nowNs = nsOfDate(now);
    const dropsOf = (rows: CounterDeltaRow[], id: number): DropView => {
      const r = rows.find((x) => x.sensorId === id);
      const packets = r?.packets ?? 0;
      const drops = r?.drops ?? 0;
      return { packets, drops, ratePercent: packets + drops > 0 ? round((drops / (packets + drops)) * 100, 4) : null };
    };
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      sensors: refs.map((ref) => {
        const view = byName.get(ref.name);
        const oldest = view?.pcap.oldest ?? null;
        const newest = view?.pcap.newest ?? null;
        const retention = oldest !== null && newest !== null ? (msOf(newest) - msOf(oldest)) / DAY_MS : null;
        const coverage = view ? availabilityOf(view, window, nowNs).fraction : 0;
        return {
          sensor: ref.name,
          location: ref.location,
          status: view?.status ?? 'unknown',
          oldest,
          newest,
          retentionDays: retention === null ? null : round(retention, 2),
          coveragePercent: round(coverage * 100, 2),
          drops: { capture: dropsOf(capture, ref.id), interface: dropsOf(iface, ref.id) },
          uptimePercent: uptime(ref.id, ref.createdAt, from, to, now, timeline),
        };
      }),
    };
  }

  async jobs(q: WindowQuery): Promise<JobsAnalyticsView> {
    const { from, to } = this.window(q, 30 * DAY_MS);
    const db = this.deps.db;
    const days = new Map<string, JobsDayView>();
    const dayOf = (key: string): JobsDayView => {
      let d = days.get(key);
      if (!d) days.set(key, (d = { day: key, submitted: 0, complete: 0, partial: 0, failed: 0, cancelled: 0, open: 0, bytesRetrieved: 0, downloads: 0 }));
      return d;
    };
    // Every day of the window, empty ones too.
    for (let day = Math.floor(from.getTime() / DAY_MS) * DAY_MS; day < to.getTime(); day += DAY_MS) dayOf(dayKey(new Date(day)));
    for (const r of await jobsPerDay(db, from, to)) {
      const d = dayOf(dayKey(r.day));
      d.submitted += r.jobs;
      if (r.status === 'complete' || r.status === 'partial' || r.status === 'failed' || r.status === 'cancelled') d[r.status] += r.jobs;
      else d.open += r.jobs;
    }
    for (const r of await downloadsPerDay(db, from, to)) {
      const d = dayOf(dayKey(r.day));
      d.bytesRetrieved += r.bytes;
      d.downloads += r.downloads;
    }
    const list = [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
    const ttr = await timeToResult(db, from, to);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      days: list,
      totals: {
        submitted: list.reduce((n, d) => n + d.submitted, 0),
        bytesRetrieved: list.reduce((n, d) => n + d.bytesRetrieved, 0),
        downloads: list.reduce((n, d) => n + d.downloads, 0),
      },
      timeToResult: {
        jobs: ttr.jobs,
        medianSeconds: ttr.medianSeconds === null ? null : round(ttr.medianSeconds, 3),
        p90Seconds: ttr.p90Seconds === null ? null : round(ttr.p90Seconds, 3),
      },
    };
  }

  async traffic(q: TrafficQuery): Promise<TrafficAnalyticsView> {
    const { from, to } = this.window(q, DAY_MS);
    const span = to.getTime() - from.getTime();
    const bucketSeconds = q.bucketSeconds ?? BUCKETS.find((b) => span / (b * 1000) <= 1440) ?? 86_400;
    if (span / (bucketSeconds * 1000) > MAX_POINTS) throw invalid(`bucket: ${bucketSeconds} s gives more than ${MAX_POINTS} points over this window`);
    const db = this.deps.db;
    let locationId: number | null = null;
    if (q.location !== undefined) {
      locationId = await locationIdByName(db, q.location);
      if (locationId === null) throw notFound(`location ${q.location}`);
    }
    const rows = await bytesByLocation(db, from, to, bucketSeconds, locationId);
    const locations = new Map<string, TrafficAnalyticsView['locations'][number]>();
    for (const r of rows) {
      let l = locations.get(r.location);
      if (!l) locations.set(r.location, (l = { location: r.location, packets: 0, bytes: 0, series: [] }));
      l.packets += r.packets;
      l.bytes += r.bytes;
      l.series.push({ at: new Date(r.at).toISOString(), packets: r.packets, bytes: r.bytes });
    }
    const top = await topPairs(db, { from, to, locationId, subnet: null }, q.top ?? 20);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      bucketSeconds,
      locations: [...locations.values()].sort((a, b) => b.bytes - a.bytes || a.location.localeCompare(b.location)),
      top,
    };
  }

  /** from/to with defaults (to = now, from = to − defaultSpan), checked: from ≤ to, span ≤ analytics.maxWindowDays. */
  private window(q: WindowQuery, defaultSpanMs: number): { from: Date; to: Date } {
    const to = q.to ?? this.now();
    const from = q.from ?? new Date(to.getTime() - defaultSpanMs);
    if (from.getTime() > to.getTime()) throw invalid('from: must not be after to');
    const max = this.deps.settings.maxWindowDays;
    if (to.getTime() - from.getTime() > max * DAY_MS) throw invalid(`from: the window from–to exceeds analytics.maxWindowDays (${max} days)`);
    return { from, to };
  }
}

/**
 * Percent of [max(from, created), min(to, now)) the sensor spent online or degraded: its status at
 * the start is its last transition before it (unknown when none), then each transition in order.
 */
function uptime(
  sensorId: number,
  createdAt: Date,
  from: Date,
  to: Date,
  now: Date,
  timeline: { before: TransitionRow[]; during: TransitionRow[] },
): number | null {
  const start = Math.max(from.getTime(), createdAt.getTime());
  const end = Math.min(to.getTime(), now.getTime());
  if (end <= start) return null;
  let status = timeline.before.find((t) => t.sensorId === sensorId)?.status ?? 'unknown';
  let cursor = start;
  let up = 0;
  for (const t of timeline.during) {
    if (t.sensorId !== sensorId) continue;
    const at = Math.min(Math.max(t.at.getTime(), start), end);
    if (UP.has(status)) up += at - cursor;
    cursor = at;
    status = t.status;
  }
  if (UP.has(status)) up += end - cursor;
  return round((up / (end - start)) * 100, 2);
}

/** Milliseconds of an ISO time that may carry micro- or nanoseconds. */
function msOf(iso: string): number {
  return Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
}

function dayKey(d: Date): string {
  return new Date(d).toISOString().slice(0, 10);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
