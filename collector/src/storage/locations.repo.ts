/** SQL of the `locations` table. */
import type { Queryable } from './db.js';

export interface LocationRow {
  name: string;
  description: string | null;
  latitude: number | null;
  longitude: number | null;
  sensors: number;
  online: number;
}

/** The id of the location named `name`, created if missing (safe under concurrency). */
export async function ensureLocation(q: Queryable, name: string): Promise<number> {
  const [row] = await q.query<{ id: number }>(`INSERT INTO locations (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`, [
    name,
  ]);
  return row!.id;
}

/** Every location with its number of sensors and of those online or degraded. */
export async function listLocations(q: Queryable): Promise<LocationRow[]> {
  return q.query<LocationRow>(
    `SELECT l.name, l.description, l.latitude, l.longitude,
            count(s.id)::int AS sensors,
            count(s.id) FILTER (WHERE s.status IN ('online', 'degraded'))::int AS online
       FROM locations l LEFT JOIN sensors s ON s.location_id = l.id
      GROUP BY l.id ORDER BY l.name`,
  );
}
