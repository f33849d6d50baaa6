/**
 * What the sensor domain hands out: JSON-ready views, times as ISO 8601 strings — except
 * `SensorView.pcap.sources`, which keeps the agent's report (`{ sec, nsec }`) for the domain's own
 * arithmetic (jobs/planner.ts). Transport answers with `SensorApiView` (toSensorApiView), in which
 * the sources' times are ISO 8601 strings too, with nanoseconds.
 */
import type { PcapSource } from '@pcapmesh/shared/wire';

export const SENSOR_STATUSES = ['unknown', 'online', 'offline', 'degraded'] as const;
/**
 * unknown: registered, never seen · online · offline · degraded: online, but a managed capture
 * is not running or a capture disk is ≥ 90% full (derived from each health message).
 */
export type SensorStatus = (typeof SENSOR_STATUSES)[number];

export interface SensorView {
  name: string;
  location: string | null;
  status: SensorStatus;
  /** Why it has its status (e.g. 'birth', 'last will', 'heartbeat timeout', 'disk /data 93% full'). */
  statusReason: string | null;
  statusChangedAt: string | null;
  version: string | null;
  hostname: string | null;
  capabilities: string[];
  /** Collector time of the last message of any kind. */
  lastSeen: string | null;
  registeredAt: string;
  /** Filesystems of the capture directories, from the last health message. */
  disks: { mount: string; fs: string; size: number; used: number; available: number; directories: string[] }[];
  /** Capture interfaces / watched directories from the last birth. */
  interfaces: { name: string; managed: boolean; directory: string }[];
  pcap: {
    /** Oldest and newest packet time over all sources (µs precision). */
    oldest: string | null;
    newest: string | null;
    sources: PcapSource[];
    updatedAt: string | null;
  };
  /** Collector clock minus agent clock, ms, as the agent measured it. */
  clockOffsetMs: number | null;
  /**
   * The newest stored health sample (by the agent's sending time), so a client shows CPU, memory
   * and load at once rather than after the next live `sensor.health` event; null when none.
   */
  latestHealth: LatestHealth | null;
}

/** A capture source as the API shows it: the agent's report with its times as ISO 8601 (nanoseconds). */
export type PcapSourceView = Omit<PcapSource, 'oldest' | 'newest' | 'gaps'> & {
  /** Oldest and newest packet time of the source, e.g. 2026-01-02T03:04:05.123456789Z. */
  oldest: string | null;
  newest: string | null;
  /** Intervals inside [oldest, newest] that no file covers. */
  gaps: { from: string; to: string }[];
};

/** The sensor as GET /sensors and /sensors/{name} answer: every time an ISO 8601 string. */
export type SensorApiView = Omit<SensorView, 'pcap'> & {
  pcap: Omit<SensorView['pcap'], 'sources'> & { sources: PcapSourceView[] };
};

/** CPU, memory and load of one health sample (the numbers of a live `sensor.health` event). */
export interface LatestHealth {
  /** The agent's sending time of the sample. */
  at: string;
  /** CPU usage, percent. */
  cpu: number;
  memoryUsed: number;
  memoryTotal: number;
  load1: number;
}

export interface SensorStatusView {
  name: string;
  status: SensorStatus;
  reason: string | null;
  since: string | null;
  lastSeen: string | null;
}

/** One capture interface (or watched directory) of a sensor. */
export interface DeviceView {
  name: string;
  managed: boolean;
  directory: string;
  /** running / stopped (managed capture), watching (directory only), unknown (no health yet). */
  status: 'running' | 'stopped' | 'watching' | 'unknown';
  packets: number | null;
  drops: number | null;
  error: string | null;
  rxBytes: number | null;
  rxPackets: number | null;
  rxDropped: number | null;
  updatedAt: string | null;
}

/** One point of a health time series; with downsampling, averages (max for disk) over a bucket. */
export interface HealthPoint {
  at: string;
  cpu: number;
  memoryUsed: number;
  memoryTotal: number;
  load1: number;
  /** Fullest capture filesystem, percent. */
  diskUsedPercent: number | null;
  /** Number of raw samples in this point. */
  samples: number;
}

export interface ActivityEntry {
  sensor: string;
  from: SensorStatus;
  to: SensorStatus;
  reason: string;
  at: string;
}

export interface LocationView {
  name: string;
  description: string | null;
  latitude: number | null;
  longitude: number | null;
  sensors: number;
  online: number;
}

/**
 * What an ingest call did. Anything but 'applied' is a rejection reason of IngestStats
 * (transport counts `applied` as accepted and the rest as rejected by that reason).
 * 'unstorable': the database refuses the message for its data (sensor-ingest.ts); it is
 * acknowledged so that it does not block the sensor, and dropped.
 */
export type IngestOutcome = 'applied' | 'duplicate' | 'stale' | 'unknown-sensor' | 'unstorable';
