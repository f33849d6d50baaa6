/** What the analytics endpoints answer (http/routes/analytics.schemas.ts mirrors these). */
import type { PairView } from '../network/network.types.js';

/** A from–to window; each endpoint has its default (see AnalyticsService). */
export interface WindowQuery {
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface DropView {
  /** Packets counted (captured, or received by the interface) in the window. */
  packets: number;
  /** Packets dropped in the window (capture: the kernel's drops for tcpdump; interface: rx dropped). */
  drops: number;
  /** drops ÷ (packets + drops) × 100; null when nothing was counted. */
  ratePercent: number | null;
}

export interface SensorAnalytics {
  sensor: string;
  location: string | null;
  status: string;
  /** Oldest and newest packet on disk (availability), and the days between them; null when unknown. */
  oldest: string | null;
  newest: string | null;
  retentionDays: number | null;
  /** Share of the window the capture files on disk cover (gaps excluded), percent. */
  coveragePercent: number;
  drops: { capture: DropView; interface: DropView };
  /**
   * Share of the window (from the sensor's creation, up to now) it was online or degraded, from
   * its status history, percent; null when none of the window lies in that span.
   */
  uptimePercent: number | null;
}

export interface SensorsAnalyticsView {
  from: string;
  to: string;
  sensors: SensorAnalytics[];
}

export interface JobsDayView {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  submitted: number;
  complete: number;
  partial: number;
  failed: number;
  cancelled: number;
  /** Still pending, running or merging. */
  open: number;
  /** Bytes of results served that day (downloads, Range requests counted by what they sent). */
  bytesRetrieved: number;
  downloads: number;
}

export interface JobsAnalyticsView {
  from: string;
  to: string;
  days: JobsDayView[];
  totals: { submitted: number; bytesRetrieved: number; downloads: number };
  /** Jobs created in the window that ended with a result (complete or partial): seconds from submission to the end. */
  timeToResult: { jobs: number; medianSeconds: number | null; p90Seconds: number | null };
}

export interface TrafficQuery extends WindowQuery {
  location?: string | undefined;
  bucketSeconds?: number | undefined;
  top?: number | undefined;
}

export interface LocationSeriesView {
  location: string;
  packets: number;
  bytes: number;
  series: { at: string; packets: number; bytes: number }[];
}

export interface TrafficAnalyticsView {
  from: string;
  to: string;
  bucketSeconds: number;
  /** Bytes by location over time (what each location's sensors reported), most bytes first. */
  locations: LocationSeriesView[];
  /** The subnet pairs with the most bytes, with each subnet's location from the map. */
  top: PairView[];
}
