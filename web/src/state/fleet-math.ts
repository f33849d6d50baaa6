/**
 * Pure fleet arithmetic the dashboard shows: status counts, retained PCAP history, disk alerts,
 * and the availability window of one sensor (covered spans and gaps). Times in ms since epoch.
 */
import type { SensorStatus, SensorView } from '../api/types.js';

/** CPU and memory of a sensor's latest health sample, percent. */
export interface SensorMetrics {
  cpu: number;
  memoryPercent: number;
  /** The agent's sending time of the sample. */
  at: string;
}

/** The gauges' numbers from a sensor's `latestHealth` (stored snapshot or live sample); null without one. */
export function sensorMetrics(sensor: Pick<SensorView, 'latestHealth'>): SensorMetrics | null {
  const h = sensor.latestHealth;
  if (!h) return null;
  return { cpu: h.cpu, memoryPercent: h.memoryTotal > 0 ? (h.memoryUsed / h.memoryTotal) * 100 : 0, at: h.at };
}

/** A disk this full (percent) raises an alert; the collector marks the sensor degraded at the same level. */
export const DISK_ALERT_PERCENT = 90;

export type StatusCounts = Record<SensorStatus, number>;

export function countByStatus(sensors: readonly Pick<SensorView, 'status'>[]): StatusCounts {
  const counts: StatusCounts = { online: 0, offline: 0, degraded: 0, unknown: 0 };
  for (const s of sensors) counts[s.status] += 1;
  return counts;
}

/** newest − oldest of a sensor's PCAP, ms; 0 without PCAP. */
export function retainedMs(sensor: Pick<SensorView, 'pcap'>): number {
  const { oldest, newest } = sensor.pcap;
  if (!oldest || !newest) return 0;
  return Math.max(0, Date.parse(newest) - Date.parse(oldest));
}

/** Sum of every sensor's retained history, ms. */
export function totalRetainedMs(sensors: readonly Pick<SensorView, 'pcap'>[]): number {
  return sensors.reduce((sum, s) => sum + retainedMs(s), 0);
}

export interface DiskAlert {
  sensor: string;
  mount: string;
  usedPercent: number;
}

export function diskPercent(disk: { size: number; used: number }): number {
  return disk.size > 0 ? (disk.used / disk.size) * 100 : 0;
}

/** Every capture filesystem at or above DISK_ALERT_PERCENT, fullest first. */
export function diskAlerts(sensors: readonly Pick<SensorView, 'name' | 'disks'>[]): DiskAlert[] {
  const alerts: DiskAlert[] = [];
  for (const s of sensors) {
    for (const d of s.disks) {
      const usedPercent = diskPercent(d);
      if (usedPercent >= DISK_ALERT_PERCENT) alerts.push({ sensor: s.name, mount: d.mount, usedPercent });
    }
  }
  return alerts.sort((a, b) => b.usedPercent - a.usedPercent);
}

export interface Span {
  from: number;
  to: number;
}

/**
 * Where a sensor has PCAP: per source [oldest, newest] minus its gaps, merged over all sources.
 * The result is sorted and non-overlapping; what lies between spans (and around them inside the
 * window) is a gap.
 */
export function coveredSpans(sensor: Pick<SensorView, 'pcap'>): Span[] {
  const spans: Span[] = [];
  for (const source of sensor.pcap.sources) {
    if (!source.oldest || !source.newest) continue;
    let cursor = Date.parse(source.oldest);
    const end = Date.parse(source.newest);
    const gaps = [...source.gaps].map((g) => ({ from: Date.parse(g.from), to: Date.parse(g.to) })).sort((a, b) => a.from - b.from);
    for (const gap of gaps) {
      if (gap.from > cursor) spans.push({ from: cursor, to: Math.min(gap.from, end) });
      cursor = Math.max(cursor, gap.to);
    }
    if (end >= cursor) spans.push({ from: cursor, to: end });
  }
  spans.sort((a, b) => a.from - b.from);
  const merged: Span[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else merged.push({ ...s });
  }
  return merged;
}

/** The gaps between covered spans (not before the first or after the last). */
export function gapsBetween(spans: readonly Span[]): Span[] {
  const gaps: Span[] = [];
  for (let i = 1; i < spans.length; i++) gaps.push({ from: spans[i - 1]!.to, to: spans[i]!.from });
  return gaps.filter((g) => g.to > g.from);
}

type PcapSource = SensorView['pcap']['sources'][number];

/** "1.5 GiB": binary units, 3 significant digits. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  // Past the last unit toPrecision would switch to exponent notation.
  return `${value >= 1000 ? Math.round(value) : value.toPrecision(3)} ${units[unit]}`;
}

/**
 * How much of a source the agent has indexed: "12 of 14" (files of at least 1 MiB with a fresh
 * sidecar, of all such files), or null when the agent does not report it (older agent, indexing off).
 */
export function indexedLabel(source: Pick<PcapSource, 'indexedFiles' | 'unindexedFiles'>): string | null {
  if (source.indexedFiles === undefined || source.unindexedFiles === undefined) return null;
  return `${source.indexedFiles} of ${source.indexedFiles + source.unindexedFiles}`;
}
