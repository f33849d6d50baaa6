/** What the network domain answers (http/routes/network.schemas.ts mirrors these) and its settings. */
import type { LearnedState } from './subnet-map.js';

export type { LearnedState };

/** config.network (docs/configuration.md). */
export interface NetworkSettings {
  /** Seconds between learning passes. */
  learnIntervalSeconds: number;
  /** Pair evidence older than this is forgotten; `GET /network/subnets` lists subnets seen within it (and pinned ones). */
  learnWindowDays: number;
  /** ≥ 2: local evidence at this many locations makes a subnet external (0: only at every location). */
  externalMinLocations: number;
  /** Longest from–to window of a traffic or locations query. */
  maxWindowDays: number;
  /** Life of the location cache's entries (map and per-location totals). */
  cacheSeconds: number;
}

/** A subnet's place: `pinned` (an admin's pin wins), learning's verdict, or `unseen` (pinned earlier, never seen). */
export type SubnetState = LearnedState | 'pinned' | 'unseen';

export interface SubnetView {
  /** Canonical CIDR. */
  subnet: string;
  state: SubnetState;
  /** Effective location: the pin, else the learned location; null for external and ambiguous. */
  location: string | null;
  /** Learning's own verdict, whatever the pin says. */
  learned: { state: LearnedState | null; location: string | null; confidence: number | null };
  /** Locations that saw it in the learning window. */
  locations: number;
  packets: number;
  bytes: number;
  firstSeen: string | null;
  lastSeen: string | null;
  pinned: { location: string; by: string | null; at: string } | null;
}

export interface TrafficPointView {
  at: string;
  packets: number;
  bytes: number;
}

export interface PairView {
  src: string;
  dst: string;
  srcLocation: string | null;
  dstLocation: string | null;
  packets: number;
  bytes: number;
}

export interface TrafficView {
  from: string;
  to: string;
  bucketSeconds: number;
  location: string | null;
  subnet: string | null;
  totals: { packets: number; bytes: number };
  series: TrafficPointView[];
  top: PairView[];
}

export interface NetworkLocationView {
  name: string;
  description: string | null;
  latitude: number | null;
  longitude: number | null;
  sensors: string[];
  online: number;
  /** Subnets whose effective location this is. */
  subnets: number;
  packets: number;
  bytes: number;
}

export interface FlowView {
  from: string;
  to: string;
  packets: number;
  bytes: number;
}

export interface NetworkLocationsView {
  from: string;
  to: string;
  locations: NetworkLocationView[];
  /** Traffic between locations (arcs), counted as the source's location reported it. */
  flows: FlowView[];
}

export interface TrafficQuery {
  from?: Date | undefined;
  to?: Date | undefined;
  location?: string | undefined;
  /** Canonical CIDR (the route checks it). */
  subnet?: string | undefined;
  bucketSeconds?: number | undefined;
  top?: number | undefined;
}

/** Published on `events/network/subnets` (docs/mqtt.md). */
export interface NetworkSubnetEvent {
  type: 'network.subnet';
  /** learned: first verdict; moved: effective location or state changed; pinned / unpinned: an admin's change. */
  change: 'learned' | 'moved' | 'pinned' | 'unpinned';
  subnet: string;
  state: SubnetState;
  location: string | null;
  previousState: SubnetState | null;
  previousLocation: string | null;
  confidence: number | null;
  at: string;
}
