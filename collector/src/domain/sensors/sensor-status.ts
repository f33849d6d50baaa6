/**
 * Status rules of a sensor: the transition (history row + event) and the degraded check
 * derived from a health message.
 */
import type { HealthMessage, SensorStatusEvent } from '@pcapmesh/shared/wire';
import type { Queryable } from '../../storage/db.js';
import { setStatus, setStatusReason } from '../../storage/sensors.repo.js';
import { insertTransition } from '../../storage/status-history.repo.js';
import type { SensorStatus } from './sensors.types.js';

/** A disk at or above this fraction used makes its sensor degraded. */
export const DISK_FULL_RATIO = 0.9;

/**
 * Moves the sensor to `to` (inside the caller's transaction, with the sensor row locked):
 * updates the row and writes a history row. Returns the event to emit after commit, or null
 * when the status does not change (a degraded sensor degraded for another reason only gets its
 * reason updated: no history row, no event).
 */
export async function transition(
  tx: Queryable,
  sensor: { id: number; name: string; status: string; statusReason: string | null },
  to: Exclude<SensorStatus, 'unknown'>,
  reason: string,
  at: Date,
): Promise<SensorStatusEvent | null> {
  const from = sensor.status as SensorStatus;
  if (from === to) {
    if (to === 'degraded' && sensor.statusReason !== reason) {
      await setStatusReason(tx, sensor.id, reason);
      sensor.statusReason = reason;
    }
    return null;
  }
  await setStatus(tx, sensor.id, to, reason, at);
  await insertTransition(tx, { sensorId: sensor.id, from, to, reason, at });
  sensor.status = to;
  sensor.statusReason = reason;
  return { type: 'sensor.status', sensor: sensor.name, status: to, previous: from, reason, at: at.toISOString() };
}

/**
 * Why a sensor reporting `health` is degraded, or null when it is healthy: a managed capture
 * that is not running, a managed device missing from the report, or a capture disk ≥ 90% full.
 */
export function degradedReason(health: Pick<HealthMessage, 'captures' | 'disks'>, managedDevices: string[]): string | null {
  const reasons: string[] = [];
  const reported = new Map(health.captures.map((c) => [c.interface, c]));
  for (const name of managedDevices) {
    const c = reported.get(name);
    if (!c) reasons.push(`capture ${name} not reported`);
    else if (!c.running) reasons.push(`capture ${name} not running${c.error ? `: ${c.error}` : ''}`);
  }
  for (const c of health.captures) {
    if (!c.running && !managedDevices.includes(c.interface)) reasons.push(`capture ${c.interface} not running${c.error ? `: ${c.error}` : ''}`);
  }
  for (const d of health.disks) {
    if (d.size > 0 && d.used / d.size >= DISK_FULL_RATIO) reasons.push(`disk ${d.mount} ${Math.floor((d.used / d.size) * 100)}% full`);
  }
  return reasons.length > 0 ? reasons.join('; ') : null;
}

/** The fullest disk's used percentage, or null without disks. */
export function fullestDiskPercent(disks: HealthMessage['disks']): number | null {
  const ratios = disks.filter((d) => d.size > 0).map((d) => (d.used / d.size) * 100);
  return ratios.length > 0 ? Math.max(...ratios) : null;
}
