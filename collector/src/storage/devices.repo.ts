/** SQL of `devices`: one row per capture interface or watched directory of a sensor. */
import type { CaptureProcess, InterfaceCounters } from './wire-types.js';
import type { Queryable } from './db.js';

export interface DeviceRow {
  name: string;
  managed: boolean;
  directory: string;
  status: 'running' | 'stopped' | 'watching' | 'unknown';
  packets: number | null;
  drops: number | null;
  error: string | null;
  rxBytes: number | null;
  rxPackets: number | null;
  rxDropped: number | null;
  updatedAt: Date | null;
}

/**
 * Makes the device list equal to a birth's interfaces: new ones inserted (a watched directory is
 * 'watching' at once, a managed capture 'unknown' until health reports it), changed ones updated,
 * ones no longer announced deleted.
 */
export async function syncDevices(q: Queryable, sensorId: number, interfaces: { name: string; managed: boolean; directory: string }[]): Promise<void> {
  await q.query(`DELETE FROM devices WHERE sensor_id = $1 AND NOT (name = ANY ($2::text[]))`, [sensorId, interfaces.map((i) => i.name)]);
  if (interfaces.length === 0) return;
  await q.query(
    `INSERT INTO devices (sensor_id, name, managed, directory, status)
     SELECT $1, i.name, i.managed, i.directory, CASE WHEN i.managed THEN 'unknown' ELSE 'watching' END
       FROM jsonb_to_recordset($2::jsonb) AS i(name text, managed boolean, directory text)
     ON CONFLICT (sensor_id, name) DO UPDATE
        SET managed = EXCLUDED.managed, directory = EXCLUDED.directory,
            status = CASE WHEN EXCLUDED.managed = devices.managed THEN devices.status ELSE EXCLUDED.status END`,
    [sensorId, JSON.stringify(interfaces)],
  );
}

export async function listDevices(q: Queryable, sensorId: number): Promise<DeviceRow[]> {
  return q.query<DeviceRow>(
    `SELECT name, managed, directory, status, packets, drops, error, rx_bytes AS "rxBytes", rx_packets AS "rxPackets",
            rx_dropped AS "rxDropped", updated_at AS "updatedAt"
       FROM devices WHERE sensor_id = $1 ORDER BY name`,
    [sensorId],
  );
}

/** One sensor's device report from a health message (applyDevicesHealth). */
export interface DeviceHealthInput {
  sensorId: number;
  captures: CaptureProcess[];
  interfaces: InterfaceCounters[];
  at: Date;
}

/**
 * applyDeviceHealth for many sensors: at most two statements whatever the number of sensors
 * (capture states, interface counters), each a multi-row UPDATE of the known devices.
 */
export async function applyDevicesHealth(q: Queryable, reports: readonly DeviceHealthInput[]): Promise<void> {
  const captures = reports.flatMap((r) => r.captures.map((c) => ({ ...c, sensorId: r.sensorId, at: r.at.toISOString() })));
  const interfaces = reports.flatMap((r) => r.interfaces.map((i) => ({ ...i, sensorId: r.sensorId, at: r.at.toISOString() })));
  if (captures.length > 0) {
    await q.query(
      `UPDATE devices d
          SET status = CASE WHEN NOT d.managed THEN 'watching' WHEN c.running THEN 'running' ELSE 'stopped' END,
              packets = c.packets, drops = c.drops, error = c.error, updated_at = c.at
         FROM jsonb_to_recordset($1::jsonb) AS c("sensorId" int8, interface text, running boolean, packets bigint, drops bigint, error text,
                                                   at timestamptz)
        WHERE d.sensor_id = c."sensorId" AND d.name = c.interface`,
      [JSON.stringify(captures)],
    );
  }
  if (interfaces.length > 0) {
    await q.query(
      `UPDATE devices d
          SET rx_bytes = i."rxBytes", rx_packets = i."rxPackets", rx_dropped = i."rxDropped", updated_at = i.at
         FROM jsonb_to_recordset($1::jsonb) AS i("sensorId" int8, name text, "rxBytes" bigint, "rxPackets" bigint, "rxDropped" bigint,
                                                   at timestamptz)
        WHERE d.sensor_id = i."sensorId" AND d.name = i.name`,
      [JSON.stringify(interfaces)],
    );
  }
}

/** Managed capture device names of each of `sensorIds` (sensors without any are absent). */
export async function managedDevicesOf(q: Queryable, sensorIds: readonly number[]): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  if (sensorIds.length === 0) return out;
  const rows = await q.query<{ sensorId: number; name: string }>(
    'SELECT sensor_id AS "sensorId", name FROM devices WHERE sensor_id = ANY($1::int8[]) AND managed ORDER BY sensor_id, name',
    [[...new Set(sensorIds)]],
  );
  for (const r of rows) {
    const list = out.get(r.sensorId);
    if (list) list.push(r.name);
    else out.set(r.sensorId, [r.name]);
  }
  return out;
}
