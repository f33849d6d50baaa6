/**
 * Response schemas of routes/sensors.ts and routes/locations.ts: the sensor views of
 * domain/sensors/sensors.types.ts, each tied to its type with `mirrors`.
 */
import { z } from 'zod';
import { pcapSourceSchema } from '@pcapmesh/shared/wire';
import {
  SENSOR_STATUSES,
  type ActivityEntry,
  type DeviceView,
  type HealthPoint,
  type LatestHealth,
  type LocationView,
  type SensorApiView,
  type SensorStatusView,
} from '../../domain/sensors/sensors.types.js';
import { int, mirrors, oneOf, orNull, time } from '../openapi/kit.js';

export const SensorStatusSchema = z.enum(SENSOR_STATUSES).meta({
  id: 'SensorStatus',
  description: 'unknown: registered, never seen; degraded: online, but a managed capture is down or a capture disk is ≥ 90% full',
});

const nanoTime = time.describe('ISO 8601, UTC, with nanoseconds (2026-01-02T03:04:05.123456789Z)');

export const PcapSourceSchema = pcapSourceSchema
  .extend({
    oldest: orNull(nanoTime).describe('oldest packet of the source'),
    newest: orNull(nanoTime).describe('newest packet of the source'),
    gaps: z.array(z.strictObject({ from: nanoTime, to: nanoTime })).describe('intervals inside [oldest, newest] that no file covers'),
  })
  .meta({ id: 'PcapSource', description: 'A capture source as the agent reports it, its times as ISO 8601 with nanoseconds.' });

export const LatestHealthSchema = mirrors<LatestHealth>()(
  z
    .strictObject({
      at: time.describe("the agent's sending time of the sample"),
      cpu: z.number().describe('CPU usage, percent'),
      memoryUsed: z.number(),
      memoryTotal: z.number(),
      load1: z.number(),
    })
    .meta({ id: 'LatestHealth' }),
);

export const SensorViewSchema = mirrors<SensorApiView>()(
  z
    .strictObject({
      name: z.string(),
      location: orNull(z.string()),
      status: SensorStatusSchema,
      statusReason: orNull(z.string()).describe("why it has its status ('birth', 'last will', 'heartbeat timeout', ...)"),
      statusChangedAt: orNull(time),
      version: orNull(z.string()),
      hostname: orNull(z.string()),
      capabilities: z.array(z.string()),
      lastSeen: orNull(time).describe('collector time of the last message of any kind'),
      registeredAt: time,
      disks: z.array(z.strictObject({ mount: z.string(), fs: z.string(), size: int, used: int, available: int, directories: z.array(z.string()) })),
      interfaces: z.array(z.strictObject({ name: z.string(), managed: z.boolean(), directory: z.string() })),
      pcap: z.strictObject({
        oldest: orNull(time).describe('oldest packet over all sources (µs precision)'),
        newest: orNull(time),
        sources: z.array(PcapSourceSchema),
        updatedAt: orNull(time),
      }),
      clockOffsetMs: orNull(z.number()).describe('collector clock minus agent clock, ms'),
      latestHealth: orNull(LatestHealthSchema).describe('the newest stored health sample; null when none'),
    })
    .meta({ id: 'SensorView' }),
);

export const SensorStatusViewSchema = mirrors<SensorStatusView>()(
  z
    .strictObject({ name: z.string(), status: SensorStatusSchema, reason: orNull(z.string()), since: orNull(time), lastSeen: orNull(time) })
    .meta({ id: 'SensorStatusView' }),
);

export const DeviceViewSchema = mirrors<DeviceView>()(
  z
    .strictObject({
      name: z.string(),
      managed: z.boolean(),
      directory: z.string(),
      status: oneOf(['running', 'stopped', 'watching', 'unknown'], 'running / stopped (managed capture), watching (directory only), unknown (no health yet)'),
      packets: orNull(int),
      drops: orNull(int),
      error: orNull(z.string()),
      rxBytes: orNull(int),
      rxPackets: orNull(int),
      rxDropped: orNull(int),
      updatedAt: orNull(time),
    })
    .meta({ id: 'DeviceView' }),
);

export const HealthPointSchema = mirrors<HealthPoint>()(
  z
    .strictObject({
      at: time,
      cpu: z.number().describe('CPU usage, percent'),
      memoryUsed: z.number(),
      memoryTotal: z.number(),
      load1: z.number(),
      diskUsedPercent: orNull(z.number()).describe('fullest capture filesystem, percent'),
      samples: int.describe('raw samples in this point'),
    })
    .meta({ id: 'HealthPoint', description: 'One point of a health series; when downsampled, averages (max for disk) over a bucket.' }),
);

export const HealthSeriesSchema = z.strictObject({ sensor: z.string(), from: time, to: time, points: z.array(HealthPointSchema) }).meta({ id: 'HealthSeries' });

export const ActivityEntrySchema = mirrors<ActivityEntry>()(
  z.strictObject({ sensor: z.string(), from: SensorStatusSchema, to: SensorStatusSchema, reason: z.string(), at: time }).meta({ id: 'ActivityEntry' }),
);

export const LocationViewSchema = mirrors<LocationView>()(
  z
    .strictObject({
      name: z.string(),
      description: orNull(z.string()),
      latitude: orNull(z.number()),
      longitude: orNull(z.number()),
      sensors: int,
      online: int,
    })
    .meta({ id: 'LocationView' }),
);
