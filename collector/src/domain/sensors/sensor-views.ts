/** Storage rows → the JSON-ready views of sensors.types.ts, and those → the API's views. */
import type { PcapSource } from '@pcapmesh/shared/wire';
import type { DeviceRow } from '../../storage/devices.repo.js';
import type { LatestHealthRow } from '../../storage/health.repo.js';
import type { SensorRow } from '../../storage/sensors.repo.js';
import type { DeviceView, LatestHealth, PcapSourceView, SensorApiView, SensorStatus, SensorView } from './sensors.types.js';
import { iso, timestampToIsoNanos } from '../time.js';

/** A sensor row plus its newest health sample (undefined/null: none stored). */
export function toSensorView(r: SensorRow, latest?: LatestHealthRow | null): SensorView {
  return {
    name: r.name,
    location: r.location,
    status: r.status as SensorStatus,
    statusReason: r.statusReason,
    statusChangedAt: iso(r.statusChangedAt),
    version: r.version,
    hostname: r.hostname,
    capabilities: r.capabilities,
    lastSeen: iso(r.lastSeen),
    registeredAt: r.createdAt.toISOString(),
    disks: r.disks as SensorView['disks'],
    interfaces: r.interfaces as SensorView['interfaces'],
    pcap: {
      oldest: r.pcapOldest,
      newest: r.pcapNewest,
      sources: r.pcap as PcapSource[],
      updatedAt: iso(r.pcapUpdatedAt),
    },
    clockOffsetMs: r.clockOffsetMs,
    latestHealth: latest ? toLatestHealth(latest) : null,
  };
}

/** The view the API answers with: the sources' times as ISO 8601 like every other time. */
export function toSensorApiView(view: SensorView): SensorApiView {
  return { ...view, pcap: { ...view.pcap, sources: view.pcap.sources.map(toPcapSourceView) } };
}

export function toPcapSourceView(source: PcapSource): PcapSourceView {
  return {
    ...source,
    oldest: source.oldest === null ? null : timestampToIsoNanos(source.oldest),
    newest: source.newest === null ? null : timestampToIsoNanos(source.newest),
    gaps: source.gaps.map((g) => ({ from: timestampToIsoNanos(g.from), to: timestampToIsoNanos(g.to) })),
  };
}

export function toLatestHealth(h: LatestHealthRow): LatestHealth {
  return { at: h.at.toISOString(), cpu: h.cpu, memoryUsed: h.memoryUsed, memoryTotal: h.memoryTotal, load1: h.load1 };
}

export function toDeviceView(r: DeviceRow): DeviceView {
  return { ...r, updatedAt: iso(r.updatedAt) };
}
