/**
 * What the sensor domain hands to transport: plain JSON-ready views (times as ISO 8601 strings).
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
 */
export type IngestOutcome = 'applied' | 'duplicate' | 'stale' | 'unknown-sensor';
