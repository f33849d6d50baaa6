/** SQL of the admin views of the database: its size and the size of each table (partitions summed into their parent). */
import type { Queryable } from './db.js';

/** The admin views' queries over one database handle (domain/system/system.service.ts uses them). */
export class SystemRepo {
  constructor(private readonly q: Queryable) {}

  /** Bytes of the whole database (pg_database_size). */
  size(): Promise<number> {
    return databaseSize(this.q);
  }

  /** Per-table sizes, largest first. */
  tables(): Promise<TableSize[]> {
    return tableSizes(this.q);
  }
}

export async function databaseSize(q: Queryable): Promise<number> {
  const [row] = await q.query<{ bytes: number }>('SELECT pg_database_size(current_database())::int8 AS bytes');
  return row?.bytes ?? 0;
}

export interface TableSize {
  table: string;
  bytes: number;
  /** Estimated rows (planner statistics; -1 or 0 before the first ANALYZE). */
  rows: number;
  partitions: number;
}

export async function tableSizes(q: Queryable): Promise<TableSize[]> {
  return q.query<TableSize>(
    `WITH rel AS (
       SELECT c.oid, c.relname, c.reltuples, COALESCE(p.relname, c.relname) AS parent, (p.oid IS NOT NULL) AS is_part
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
         LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
         LEFT JOIN pg_class p ON p.oid = i.inhparent
        WHERE c.relkind IN ('r', 'p'))
     SELECT parent AS "table", sum(pg_total_relation_size(oid))::int8 AS bytes,
            sum(GREATEST(reltuples, 0))::int8 AS rows, count(*) FILTER (WHERE is_part)::int AS partitions
       FROM rel GROUP BY parent ORDER BY bytes DESC, parent`,
  );
}
