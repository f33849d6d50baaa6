/**
 * Folds the traffic of many messages (one ingest batch) into the rows the network view stores, in
 * memory, before any upsert: one base row per (location, minute, sensor, pair), one total per
 * (location, minute), one sum per (location, hour, pair), and one evidence row per (location,
 * unordered pair). Every list is sorted by its key, so concurrent writers lock rows in one order.
 * Sums are exact: each output's packets and bytes add up to those of the input flows it covers.
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
  flows: readonly { src: string; dst: string; packets: number; bytes: number }[];
}

export interface Folded extends TrafficAdd {
  pairs: PairEvidence[];
}

interface Sum {
  packets: number;
  bytes: number;
}

function bump<K>(map: Map<string, K & Sum>, key: string, make: () => K, packets: number, bytes: number): void {
  const cur = map.get(key);
  if (cur) {
    cur.packets += packets;
    cur.bytes += bytes;
  } else map.set(key, { ...make(), packets, bytes });
}

const SEP = '\u0000';
const sorted = <T>(map: Map<string, T>): T[] => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
/** A sort key whose string order is (location, time, …) order: fixed-width numbers. */
const pad = (n: number) => n.toString().padStart(16, '0');

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
    const loc = pad(m.locationId);
    let mp = 0;
    let mb = 0;
    for (const f of m.flows) {
      const pair = `${f.src}${SEP}${f.dst}`;
      bump(
        rows,
        `${loc}${pad(minuteMs)}${pad(m.sensorId)}${pair}`,
        () => ({ locationId: m.locationId, minute, sensorId: m.sensorId, src: f.src, dst: f.dst }),
        f.packets,
        f.bytes,
      );
      bump(hours, `${loc}${pad(hourMs)}${pair}`, () => ({ locationId: m.locationId, hour, src: f.src, dst: f.dst }), f.packets, f.bytes);
      const [a, b] = f.src <= f.dst ? [f.src, f.dst] : [f.dst, f.src];
      const ev = pairs.get(`${a}${SEP}${b}${SEP}${loc}`);
      if (ev) {
        ev.packets += f.packets;
        ev.bytes += f.bytes;
        if (m.intervalStart < ev.firstSeen) ev.firstSeen = m.intervalStart;
        if (m.intervalStart > ev.lastSeen) ev.lastSeen = m.intervalStart;
      } else {
        pairs.set(`${a}${SEP}${b}${SEP}${loc}`, {
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
    if (m.flows.length > 0) bump(minutes, `${loc}${pad(minuteMs)}`, () => ({ locationId: m.locationId, minute }), mp, mb);
  }
  return { rows: sorted(rows), minutes: sorted(minutes), hours: sorted(hours), pairs: sorted(pairs) };
}
