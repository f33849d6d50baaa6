/**
 * SQL of `network_nets` (sql/0020): the int4 id of each subnet text (canonical CIDR, or 'other')
 * that network_traffic and network_pairs_hour key on. Ids are never reused or changed.
 */
import type { Queryable } from './db.js';

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Subnet text → id (network_nets). */
export type NetIds = ReadonlyMap<string, number>;

/**
 * The ids of subnet texts (canonical CIDR or 'other'), adding those network_nets lacks: one
 * SELECT, and for missing ones an INSERT (sorted: concurrent adders take the unique index's
 * locks in one order) and a second SELECT for those another transaction added meanwhile.
 * Ids are final once the calling transaction commits; ids it added vanish if it rolls back, so
 * a cache of ids may keep only those of committed transactions.
 */
export async function netIds(q: Queryable, nets: Iterable<string>): Promise<Map<string, number>> {
  const want = [...new Set(nets)].sort(cmp);
  const out = new Map<string, number>();
  if (want.length === 0) return out;
  const read = async (list: string[]) => {
    for (const r of await q.query<{ id: number; net: string }>('SELECT id, net FROM network_nets WHERE net = ANY ($1::text[])', [list])) out.set(r.net, r.id);
  };
  await read(want);
  let missing = want.filter((n) => !out.has(n));
  if (missing.length === 0) return out;
  for (const r of await q.query<{ id: number; net: string }>(
    'INSERT INTO network_nets (net) SELECT n FROM unnest($1::text[]) AS n ORDER BY n ON CONFLICT (net) DO NOTHING RETURNING id, net',
    [missing],
  ))
    out.set(r.net, r.id);
  missing = missing.filter((n) => !out.has(n));
  if (missing.length > 0) await read(missing);
  const lost = want.find((n) => !out.has(n));
  if (lost !== undefined) throw new Error(`network_nets: no id for ${JSON.stringify(lost)} after adding it`);
  return out;
}

/** Every subnet text of the rows and hourly pairs. */
export function netsOf(add: { rows?: readonly { src: string; dst: string }[]; hours?: readonly { src: string; dst: string }[] }): Set<string> {
  const nets = new Set<string>();
  for (const r of add.rows ?? []) nets.add(r.src).add(r.dst);
  for (const r of add.hours ?? []) nets.add(r.src).add(r.dst);
  return nets;
}

export function netIdOf(ids: NetIds, net: string): number {
  const id = ids.get(net);
  if (id === undefined) throw new Error(`no network_nets id for ${JSON.stringify(net)} (netIds first)`);
  return id;
}
