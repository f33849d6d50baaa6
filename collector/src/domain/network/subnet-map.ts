/**
 * The learning rule of the subnet → location map, pure (no I/O): from the pair evidence of the
 * learning window (which location's sensors saw which pair of subnets, storage/network-map.repo.ts)
 * to a verdict per subnet. docs/architecture.md "Network" states the same rule.
 *
 * Definitions, per subnet S over the window:
 * - S is *seen* at location L when L's sensors reported a flow with S as source or destination.
 * - L has *local evidence* for S when L saw a pair (S, T) — either direction — that no other
 *   location saw. A flow between two sites is seen at both, so it is no one's local evidence:
 *   it is transit for the far end, and never pulls S there. A subnet's own site sees its
 *   traffic with local neighbours or the outside that the other sites do not.
 * - R = the locations that reported any pair in the window.
 *
 * Verdict (a pin, kept apart, always wins over it):
 * 1. exactly one location has local evidence → `learned` there; confidence = that location's
 *    share of S's bytes over all the locations that saw it (1 when only it saw S).
 * 2. two or more locations have local evidence, and they are every location of R, or at least
 *    `externalMinLocations` of them (when that is ≥ 2) → `external` (no location); confidence =
 *    their number / |R|.
 * 3. otherwise (local evidence at several but not enough locations, or at none: S seen only in
 *    flows between sites) → `ambiguous` (no location); confidence = the largest byte share.
 * With one reporting location every subnet it sees is learned there: nothing can be external.
 */

export type LearnedState = 'learned' | 'external' | 'ambiguous';

/** One subnet as one location saw it. */
export interface Sighting {
  locationId: number;
  packets: number;
  bytes: number;
  firstSeen: Date;
  lastSeen: Date;
  local: boolean;
}

export interface Verdict {
  state: LearnedState;
  locationId: number | null;
  confidence: number;
  /** Locations that saw the subnet. */
  locations: number;
  packets: number;
  bytes: number;
  firstSeen: Date;
  lastSeen: Date;
}

export interface LearningRule {
  /** ≥ 2: local evidence at this many locations makes a subnet external even when other locations do not see it. 0: only "every location". */
  externalMinLocations: number;
}

/** The verdict on one subnet from its sightings (at least one). */
export function classify(seen: readonly Sighting[], reportingLocations: number, rule: LearningRule): Verdict {
  if (seen.length === 0) throw new Error('classify: no sightings');
  const bytes = seen.reduce((n, s) => n + s.bytes, 0);
  const packets = seen.reduce((n, s) => n + s.packets, 0);
  const firstSeen = new Date(Math.min(...seen.map((s) => s.firstSeen.getTime())));
  const lastSeen = new Date(Math.max(...seen.map((s) => s.lastSeen.getTime())));
  const base = { locations: seen.length, packets, bytes, firstSeen, lastSeen };
  const share = (s: Sighting) => (bytes > 0 ? s.bytes / bytes : 1 / seen.length);
  const local = seen.filter((s) => s.local);
  if (local.length === 1) {
    return { ...base, state: 'learned', locationId: local[0]!.locationId, confidence: round(share(local[0]!)) };
  }
  const enough = rule.externalMinLocations >= 2 && local.length >= rule.externalMinLocations;
  if (local.length >= 2 && (local.length >= reportingLocations || enough)) {
    return { ...base, state: 'external', locationId: null, confidence: round(Math.min(1, local.length / Math.max(1, reportingLocations))) };
  }
  return { ...base, state: 'ambiguous', locationId: null, confidence: round(Math.max(...seen.map(share))) };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A subnet's effective place: a pin wins; otherwise learning's verdict (a location only when `learned`). */
export function effectiveOf(row: { state: LearnedState | null; location: string | null; pinnedLocation: string | null }): {
  state: LearnedState | 'pinned' | 'unseen';
  location: string | null;
} {
  if (row.pinnedLocation !== null) return { state: 'pinned', location: row.pinnedLocation };
  if (row.state === null) return { state: 'unseen', location: null };
  return { state: row.state, location: row.state === 'learned' ? row.location : null };
}
