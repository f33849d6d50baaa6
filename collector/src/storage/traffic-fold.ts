/**
 * Folds the traffic of many messages (one ingest batch) into the rows the network view stores, in
 * memory, before any upsert: one base row per (location, minute, sensor, part, pair), one total per
 * (location, minute), one sum per (location, hour, pair), and one evidence row per (location,
 * unordered pair). Sums are exact: each output's packets and bytes add up to those of the input
 * flows it covers.
 *
 * Order: the rows other batches may also write — minute totals, hourly pairs and evidence, shared
 * by every sensor of a location — come sorted by key, so concurrent writers lock them in one order
 * (no deadlock cycle). Base rows carry the sensor in their key and a sensor is in one batch at a
 * time (the ingest queue per sensor), so they are left in arrival order.
 */
import type { HourPairRow, MinuteTotalRow, TrafficAdd, TrafficRow } from './network-traffic.repo.js';
import type { PairEvidence } from './network-map.repo.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** One message's new flows (canonical subnets) for a sensor at a location. */
export interface FoldInput {
  locationId: number;
  sensorId: number;
  intervalStart: Date;
  /** The capture file's share of the minute; default ''. */
  part?: string;
  flows: readonly { src: string; dst: string; packets: number; bytes: number }[];
}

export interface Folded extends TrafficAdd {
  pairs: PairEvidence[];
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function foldTraffic(inputs: readonly FoldInput[]): Folded {
  const rows = new Map<string, TrafficRow>();
  const minutes = new Map<string, MinuteTotalRow>();
  const hours = new Map<string, HourPairRow>();
  const pairs = new Map<string, PairEvidence>();
  for (const m of inputs) {
    const minuteMs = Math.floor(m.intervalStart.getTime() / MINUTE_MS) * MINUTE_MS;
    const hourMs = Math.floor(minuteMs / HOUR_MS) * HOUR_MS;
    const minute = new Date(minuteMs);
    const hour = new Date(hourMs);
    const part = m.part ?? '';
    const rowPrefix = `${m.locationId}|${minuteMs}|${m.sensorId}|${part}|`;
    const hourPrefix = `${m.locationId}|${hourMs}|`;
    let mp = 0;
    let mb = 0;
    for (const f of m.flows) {
      const pair = `${f.src}|${f.dst}`;
      const rk = rowPrefix + pair;
      const row = rows.get(rk);
      if (row) {
        row.packets += f.packets;
        row.bytes += f.bytes;
      } else rows.set(rk, { locationId: m.locationId, minute, sensorId: m.sensorId, part, src: f.src, dst: f.dst, packets: f.packets, bytes: f.bytes });
      const hk = hourPrefix + pair;
      const h = hours.get(hk);
      if (h) {
        h.packets += f.packets;
        h.bytes += f.bytes;
      } else hours.set(hk, { locationId: m.locationId, hour, src: f.src, dst: f.dst, packets: f.packets, bytes: f.bytes });
      const [a, b] = f.src <= f.dst ? [f.src, f.dst] : [f.dst, f.src];
      const ek = `${m.locationId}|${a}|${b}`;
      const ev = pairs.get(ek);
      if (ev) {
        ev.packets += f.packets;
        ev.bytes += f.bytes;
        if (m.intervalStart < ev.firstSeen) ev.firstSeen = m.intervalStart;
        if (m.intervalStart > ev.lastSeen) ev.lastSeen = m.intervalStart;
      } else {
        pairs.set(ek, {
          netA: a,
          netB: b,
          locationId: m.locationId,
          packets: f.packets,
          bytes: f.bytes,
          firstSeen: m.intervalStart,
          lastSeen: m.intervalStart,
        });
      }
      mp += f.packets;
      mb += f.bytes;
    }
    if (m.flows.length === 0) continue;
    const mk = `${m.locationId}|${minuteMs}`;
    const t = minutes.get(mk);
    if (t) {
      t.packets += mp;
      t.bytes += mb;
    } else minutes.set(mk, { locationId: m.locationId, minute, packets: mp, bytes: mb });
  }
  return {
    rows: [...rows.values()],
    minutes: [...minutes.values()].sort((x, y) => x.locationId - y.locationId || x.minute.getTime() - y.minute.getTime()),
    hours: [...hours.values()].sort((x, y) => x.locationId - y.locationId || x.hour.getTime() - y.hour.getTime() || cmp(x.src, y.src) || cmp(x.dst, y.dst)),
    pairs: [...pairs.values()].sort((x, y) => cmp(x.netA, y.netA) || cmp(x.netB, y.netB) || x.locationId - y.locationId),
  };
}
