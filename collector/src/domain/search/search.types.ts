/** What GET /search answers (http/routes/search.schemas.ts mirrors these). */
import type { SubnetState } from '../network/network.types.js';

export interface SearchQuery {
  q: string;
  /** Window of an address's sightings; default the last SearchSettings.defaultWindowDays. */
  from?: Date | undefined;
  to?: Date | undefined;
  /** Hits per kind, 1–50; default 10. */
  limit?: number | undefined;
}

export interface SensorHit {
  name: string;
  location: string | null;
  status: string;
  hostname: string | null;
  lastSeen: string | null;
}

export interface LocationHit {
  name: string;
  description: string | null;
  sensors: number;
}

export interface SubnetHit {
  subnet: string;
  state: SubnetState;
  location: string | null;
  lastSeen: string | null;
  bytes: number;
}

export interface JobHit {
  id: string;
  name: string | null;
  owner: string;
  status: string;
  /** The canonical filter expression the sensors run. */
  filter: string;
  createdAt: string;
}

export interface UserHit {
  username: string;
  role: string;
  disabled: boolean;
}

export interface SightingView {
  sensor: string;
  location: string | null;
  firstSeen: string;
  lastSeen: string;
  packets: number;
  bytes: number;
}

/** A POST /jobs body, ready to submit. */
export interface ReadyJobRequest {
  window: { from: string; to: string };
  filter: { expression: string };
  targets: { sensors: string[] };
}

export interface AddressView {
  /** The address or network searched, canonical (a bare address as /32 or /128). */
  query: string;
  /** True for a single address. */
  host: boolean;
  /** The window the sightings were looked for in. */
  window: { from: string; to: string };
  /** The most specific subnet of the map containing it; null when the map knows none. */
  subnet: SubnetHit | null;
  /** That subnet's effective location (pin, else learned). */
  location: string | null;
  /** Sensors whose traffic summaries carried it, most bytes first. */
  sightings: SightingView[];
  /** Capture the address (or network) on those sensors over the time they saw it; null when none did. */
  jobRequest: ReadyJobRequest | null;
}

export interface SearchView {
  /** The text searched (trimmed). */
  q: string;
  sensors: SensorHit[];
  locations: LocationHit[];
  subnets: SubnetHit[];
  jobs: JobHit[];
  /** Admins only; null for everyone else. */
  users: UserHit[] | null;
  /** When q is an IP address or CIDR. */
  address: AddressView | null;
}
