/** Response schemas of the analytics routes, tied with `mirrors` to the domain views (domain/analytics/analytics.types.ts). */
import { z } from 'zod';
import type {
  DropView,
  JobsAnalyticsView,
  JobsDayView,
  LocationSeriesView,
  SensorAnalytics,
  SensorsAnalyticsView,
  TrafficAnalyticsView,
} from '../../domain/analytics/analytics.service.js';
import type { PairView } from '../../domain/network/network.types.js';
import { int, mirrors, orNull, time } from '../openapi/kit.js';

const percent = z.number().min(0).max(100);

const DropSchema = mirrors<DropView>()(
  z.strictObject({
    packets: int.describe('packets counted in the window'),
    drops: int.describe('packets dropped in the window'),
    ratePercent: orNull(percent).describe('drops ÷ (packets + drops) × 100; null when nothing was counted'),
  }),
);

const SensorAnalyticsSchema = mirrors<SensorAnalytics>()(
  z.strictObject({
    sensor: z.string(),
    location: orNull(z.string()),
    status: z.string(),
    oldest: orNull(z.string()).describe('oldest packet on disk (availability), ISO 8601 with sub-second digits'),
    newest: orNull(z.string()),
    retentionDays: orNull(z.number().min(0)).describe('days between the oldest and newest packet on disk'),
    coveragePercent: percent.describe('share of the window the capture files on disk cover, gaps excluded'),
    drops: z
      .strictObject({
        capture: DropSchema.describe('the capture processes’ counters (tcpdump packets/drops)'),
        interface: DropSchema.describe('the interfaces’ rx packets/dropped'),
      })
      .describe('from the health samples of the window; counter resets (restarts) handled'),
    uptimePercent: orNull(percent).describe('share of the window (since the sensor was created, up to now) online or degraded; null when none of it'),
  }),
);

export const SensorsAnalyticsSchema = mirrors<SensorsAnalyticsView>()(
  z.strictObject({ from: time, to: time, sensors: z.array(SensorAnalyticsSchema) }).meta({ id: 'SensorsAnalytics' }),
);

const JobsDaySchema = mirrors<JobsDayView>()(
  z.strictObject({
    day: z.string().describe('UTC day, YYYY-MM-DD'),
    submitted: int,
    complete: int,
    partial: int,
    failed: int,
    cancelled: int,
    open: int.describe('still pending, running or merging'),
    bytesRetrieved: int.describe('bytes of results served that day'),
    downloads: int,
  }),
);

export const JobsAnalyticsSchema = mirrors<JobsAnalyticsView>()(
  z
    .strictObject({
      from: time,
      to: time,
      days: z.array(JobsDaySchema).describe('every UTC day of the window, by when jobs were submitted and results served'),
      totals: z.strictObject({ submitted: int, bytesRetrieved: int, downloads: int }),
      timeToResult: z
        .strictObject({ jobs: int, medianSeconds: orNull(z.number().min(0)), p90Seconds: orNull(z.number().min(0)) })
        .describe('jobs submitted in the window that ended complete or partial: seconds from submission to the end'),
    })
    .meta({ id: 'JobsAnalytics' }),
);

const PairSchema = mirrors<PairView>()(
  z.strictObject({
    src: z.string().describe('source subnet (CIDR, or "other")'),
    dst: z.string(),
    srcLocation: orNull(z.string()),
    dstLocation: orNull(z.string()),
    packets: int,
    bytes: int,
  }),
);

const LocationSeriesSchema = mirrors<LocationSeriesView>()(
  z.strictObject({
    location: z.string(),
    packets: int,
    bytes: int,
    series: z.array(z.strictObject({ at: time.describe('start of the bucket'), packets: int, bytes: int })).describe('non-empty buckets only'),
  }),
);

export const TrafficAnalyticsSchema = mirrors<TrafficAnalyticsView>()(
  z
    .strictObject({
      from: time,
      to: time,
      bucketSeconds: int,
      locations: z.array(LocationSeriesSchema).describe("bytes by location over time (what each location's sensors reported), most bytes first"),
      top: z.array(PairSchema).describe('the subnet pairs with the most bytes, with each subnet’s location from the map'),
    })
    .meta({ id: 'TrafficAnalytics' }),
);
