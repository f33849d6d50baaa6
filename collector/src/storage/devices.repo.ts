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

/** Applies a health message's capture process states and interface counters to known devices. */
export async function applyDeviceHealth(
  q: Queryable,
  sensorId: number,
  h: { captures: CaptureProcess[]; interfaces: InterfaceCounters[]; at: Date },
): Promise<void> {
  if (h.captures.length > 0) {
    await q.query(
      `UPDATE devices d
          SET status = CASE WHEN NOT d.managed THEN 'watching' WHEN c.running THEN 'running' ELSE 'stopped' END,
              packets = c.packets, drops = c.drops, error = c.error, updated_at = $3
         FROM jsonb_to_recordset($2::jsonb) AS c(interface text, running boolean, packets bigint, drops bigint, error text)
        WHERE d.sensor_id = $1 AND d.name = c.interface`,
      [sensorId, JSON.stringify(h.captures), h.at],
    );
  }
  if (h.interfaces.length > 0) {
    await q.query(
      `UPDATE devices d
          SET rx_bytes = i."rxBytes", rx_packets = i."rxPackets", rx_dropped = i."rxDropped", updated_at = $3
         FROM jsonb_to_recordset($2::jsonb) AS i(name text, "rxBytes" bigint, "rxPackets" bigint, "rxDropped" bigint)
        WHERE d.sensor_id = $1 AND d.name = i.name`,
      [sensorId, JSON.stringify(h.interfaces), h.at],
    );
  }
}

/** Names of the sensor's managed capture devices. */
export async function managedDeviceNames(q: Queryable, sensorId: number): Promise<string[]> {
  const rows = await q.query<{ name: string }>('SELECT name FROM devices WHERE sensor_id = $1 AND managed ORDER BY name', [sensorId]);
  return rows.map((r) => r.name);
}

export async function listDevices(q: Queryable, sensorId: number): Promise<DeviceRow[]> {
  return q.query<DeviceRow>(
    `SELECT name, managed, directory, status, packets, drops, error, rx_bytes AS "rxBytes", rx_packets AS "rxPackets",
            rx_dropped AS "rxDropped", updated_at AS "updatedAt"
       FROM devices WHERE sensor_id = $1 ORDER BY name`,
    [sensorId],
  );
}
