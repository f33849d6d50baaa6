/**
 * The network page's model, pure (tested without a browser): the points and arcs the globe draws
 * and the fallback table shows, from GET /network/locations. Both views render the same rows, so
 * without WebGL nothing is lost but the picture.
 */
import type { NetworkLocationsView } from '../api/types.js';

/** A location with coordinates: a point on the globe, its radius growing with its traffic. */
export interface GlobePoint {
  name: string;
  lat: number;
  lng: number;
  bytes: number;
  packets: number;
  sensors: string[];
  online: number;
  /** Degrees of arc: 0.8 for no traffic up to 3.0 for the busiest location. */
  radius: number;
}

/** Traffic between two located locations (an arc). */
export interface GlobeArc {
  from: string;
  to: string;
  startLat: number;
  startLng: number;
  endLat: number;
  endLng: number;
  bytes: number;
  packets: number;
  /** Stroke width 0.3..1.5, by bytes relative to the biggest flow. */
  stroke: number;
}

export interface GlobeModel {
  points: GlobePoint[];
  arcs: GlobeArc[];
  /** Locations without coordinates: listed (table, legend), never drawn. */
  unplaced: string[];
}

const MIN_RADIUS = 0.8;
const MAX_RADIUS = 3;

/** Builds the globe's data; points and arcs are sorted by bytes, busiest first. */
export function globeModel(view: NetworkLocationsView): GlobeModel {
  const maxBytes = Math.max(1, ...view.locations.map((l) => l.bytes));
  const points: GlobePoint[] = [];
  const unplaced: string[] = [];
  for (const l of view.locations) {
    if (l.latitude === null || l.longitude === null) {
      unplaced.push(l.name);
      continue;
    }
    points.push({
      name: l.name,
      lat: l.latitude,
      lng: l.longitude,
      bytes: l.bytes,
      packets: l.packets,
      sensors: l.sensors,
      online: l.online,
      // Area follows traffic: radius by the square root of the share.
      radius: MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * Math.sqrt(l.bytes / maxBytes),
    });
  }
  const at = new Map(points.map((p) => [p.name, p]));
  const maxFlow = Math.max(1, ...view.flows.map((f) => f.bytes));
  const arcs: GlobeArc[] = [];
  for (const f of view.flows) {
    const a = at.get(f.from);
    const b = at.get(f.to);
    if (!a || !b || a === b) continue;
    arcs.push({
      from: f.from,
      to: f.to,
      startLat: a.lat,
      startLng: a.lng,
      endLat: b.lat,
      endLng: b.lng,
      bytes: f.bytes,
      packets: f.packets,
      stroke: 0.3 + 1.2 * Math.sqrt(f.bytes / maxFlow),
    });
  }
  points.sort((x, y) => y.bytes - x.bytes || x.name.localeCompare(y.name));
  arcs.sort((x, y) => y.bytes - x.bytes);
  return { points, arcs, unplaced };
}

/** True when this browser can create a WebGL context (the globe needs one). */
export function hasWebGl(doc: Document = document): boolean {
  try {
    const canvas = doc.createElement('canvas');
    return Boolean(canvas.getContext('webgl2') ?? canvas.getContext('webgl'));
  } catch {
    return false;
  }
}

/** Quick time ranges of the page, in hours. */
export const NETWORK_RANGES = [
  { hours: 1, label: 'Last hour' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 24 * 7, label: 'Last 7 days' },
] as const;
