/** SQL of the network view's location data: coordinates and description, ids by name, sensors per location. */
import type { Queryable } from './db.js';

export interface LocationDetails {
  /** Each field: a value sets it, null clears it, undefined leaves it as it is. */
  description?: string | null | undefined;
  latitude?: number | null | undefined;
  longitude?: number | null | undefined;
}

/** Sets a location's details, creating the location when it does not exist; true when created. */
export async function upsertLocationDetails(q: Queryable, name: string, d: LocationDetails): Promise<boolean> {
  const [row] = await q.query<{ created: boolean }>(
    `INSERT INTO locations (name, description, latitude, longitude) VALUES ($1, $3, $5, $7)
     ON CONFLICT (name) DO UPDATE SET
       description = CASE WHEN $2 THEN EXCLUDED.description ELSE locations.description END,
       latitude = CASE WHEN $4 THEN EXCLUDED.latitude ELSE locations.latitude END,
       longitude = CASE WHEN $6 THEN EXCLUDED.longitude ELSE locations.longitude END
     RETURNING (xmax = 0) AS created`,
    [name, d.description !== undefined, d.description ?? null, d.latitude !== undefined, d.latitude ?? null, d.longitude !== undefined, d.longitude ?? null],
  );
  return row?.created === true;
}

export async function locationIdByName(q: Queryable, name: string): Promise<number | null> {
  const [row] = await q.query<{ id: number }>('SELECT id FROM locations WHERE name = $1', [name]);
  return row?.id ?? null;
}

export interface NetworkLocationRow {
  id: number;
  name: string;
  description: string | null;
  latitude: number | null;
  longitude: number | null;
  sensors: string[];
  online: number;
}

/** Every location with its coordinates and its sensors' names (sorted). */
export async function networkLocations(q: Queryable): Promise<NetworkLocationRow[]> {
  return q.query<NetworkLocationRow>(
    `SELECT l.id, l.name, l.description, l.latitude, l.longitude,
            COALESCE(array_agg(s.name ORDER BY s.name) FILTER (WHERE s.id IS NOT NULL), '{}') AS sensors,
            count(s.id) FILTER (WHERE s.status IN ('online', 'degraded'))::int AS online
       FROM locations l LEFT JOIN sensors s ON s.location_id = l.id
      GROUP BY l.id ORDER BY l.name`,
  );
}

/** The location id of a sensor (null without one); read inside the ingest transaction. */
export async function sensorLocationId(q: Queryable, sensorId: number): Promise<number | null> {
  const [row] = await q.query<{ id: number | null }>('SELECT location_id AS id FROM sensors WHERE id = $1', [sensorId]);
  return row?.id ?? null;
}
