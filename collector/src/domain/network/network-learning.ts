/**
 * One learning pass of the subnet → location map: forget pair evidence older than the window,
 * classify every subnet still in evidence (subnet-map.ts), store the verdicts, and report each
 * subnet whose effective place changed (first verdict: `learned`; another location or state:
 * `moved`). A pin wins, so learning never changes a pinned subnet's effective place.
 * Subnets that fall out of the window keep their last verdict and last_seen. One collector learns
 * at a time (an advisory lock; a pass that finds it taken is skipped), so events go out once.
 */
import type { Db } from '../../storage/db.js';
import {
  bumpCacheVersion,
  deletePairsBefore,
  listSubnets,
  saveLearned,
  sightings,
  tryLearnLock,
  type LearnedRow,
  type SubnetRow,
} from '../../storage/network-map.repo.js';
import { classify, effectiveOf, type LearningRule, type Sighting } from './subnet-map.js';
import type { NetworkSubnetEvent } from './network.types.js';

const DAY_MS = 86_400_000;

export interface LearnReport {
  /** True when another collector was learning at that moment: this pass did nothing. */
  skipped: boolean;
  subnets: number;
  forgotPairs: number;
  events: NetworkSubnetEvent[];
}

export async function learnPass(db: Db, now: Date, windowDays: number, rule: LearningRule): Promise<LearnReport> {
  return db.transaction(async (tx) => {
    if (!(await tryLearnLock(tx))) return { skipped: true, subnets: 0, forgotPairs: 0, events: [] };
    const forgotPairs = await deletePairsBefore(tx, new Date(now.getTime() - windowDays * DAY_MS));
    const { rows, reportingLocations } = await sightings(tx);
    const bySubnet = new Map<string, Sighting[]>();
    for (const r of rows) {
      let list = bySubnet.get(r.subnet);
      if (!list) bySubnet.set(r.subnet, (list = []));
      list.push(r);
    }
    const learned: LearnedRow[] = [];
    for (const [subnet, seen] of bySubnet) learned.push({ subnet, ...classify(seen, reportingLocations, rule) });
    const before = new Map((await listSubnets(tx, null)).map((r) => [r.subnet, r]));
    await saveLearned(tx, learned, now);
    const events: NetworkSubnetEvent[] = [];
    for (const after of await listSubnets(tx, null)) {
      const event = changeOf(before.get(after.subnet), after, now);
      if (event) events.push(event);
    }
    // Last, so the version row is locked only for the commit (pins wait on it).
    await bumpCacheVersion(tx);
    return { skipped: false, subnets: learned.length, forgotPairs, events };
  });
}

/** The event of a learning pass's change of one subnet, or null when its effective place is the same. */
export function changeOf(before: SubnetRow | undefined, after: SubnetRow, now: Date): NetworkSubnetEvent | null {
  const next = effectiveOf(after);
  const prev = before ? effectiveOf(before) : null;
  if (prev && prev.state === next.state && prev.location === next.location) return null;
  if (next.state === 'unseen') return null;
  const first = prev === null || prev.state === 'unseen';
  return {
    type: 'network.subnet',
    change: first ? 'learned' : 'moved',
    subnet: after.subnet,
    state: next.state,
    location: next.location,
    previousState: prev?.state ?? null,
    previousLocation: prev?.location ?? null,
    confidence: after.confidence,
    at: now.toISOString(),
  };
}
