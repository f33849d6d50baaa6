/**
 * The search box (GET /search?q=): one text over sensors (name, hostname, location), locations
 * (name, description), the subnet map (domain/network), jobs (id, name, filter expression) and —
 * for admins only — users. Matching is a case-insensitive substring; each kind answers at most
 * `limit` hits.
 *
 * When the text is an IP address or a CIDR (a bare address is a /32 or /128), the answer also
 * holds `address`: the subnets of the map that contain or lie in it (the most specific containing
 * one is `subnet`, its effective location is `location`), the sensors whose traffic summaries
 * (`traffic_samples`) carried it in the window, with when and how much, and a ready job request —
 * `{ window, filter: { expression: 'host A' | 'net C' }, targets: { sensors } }` over the window the
 * sensors saw it in — that POST /jobs accepts as it is (null when no sensor saw it).
 *
 * Bad input throws DomainError('invalid') naming the field: q empty or over 256 characters, from
 * after to, a window over network.maxWindowDays.
 *
 * @example
 *   const found = await search.search({ q: '10.1.2.7', limit: 10 }, { name: 'ana', role: 'viewer' });
 *   if (found.address?.jobRequest) await jobs.submit(actor, toJobRequest(found.address.jobRequest));
 */
import type { Db } from '../../storage/db.js';
import { reportedNets, searchJobs, searchLocations, searchSensors, searchUsers, sightingsOf } from '../../storage/search.repo.js';
import type { Actor } from '../accounts/roles.js';
import { invalid } from '../errors.js';
import { overlaps, parseAnyCidr, type Cidr } from '../network/cidr.js';
import type { SubnetView } from '../network/network.types.js';
import type { AddressView, SearchQuery, SearchView, SubnetHit } from './search.types.js';

export type * from './search.types.js';

const DAY_MS = 86_400_000;
export const MAX_QUERY_LENGTH = 256;
export const MAX_HITS = 50;

export interface SearchSettings {
  /** Longest from–to window (network.maxWindowDays). */
  maxWindowDays: number;
  /** Window of an address search when the caller names none, days before now. */
  defaultWindowDays: number;
}

export interface SearchServiceDeps {
  db: Db;
  /** The subnet map (NetworkService.subnets, cached there). */
  subnets: () => Promise<SubnetView[]>;
  settings: SearchSettings;
  now?: () => Date;
}

export class SearchService {
  private readonly now: () => Date;

  constructor(private readonly deps: SearchServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async search(query: SearchQuery, actor: Actor): Promise<SearchView> {
    const q = query.q.trim();
    if (q === '') throw invalid('q: must not be empty');
    if (q.length > MAX_QUERY_LENGTH) throw invalid(`q: at most ${MAX_QUERY_LENGTH} characters`);
    const limit = query.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HITS) throw invalid(`limit: must be 1 to ${MAX_HITS}`);
    const window = this.window(query.from, query.to);
    const db = this.deps.db;
    const cidr = asCidr(q);
    const map = await this.deps.subnets();
    const lower = q.toLowerCase();
    const subnets = map
      .filter((s) => (cidr ? overlapsText(cidr, s.subnet) : s.subnet.includes(lower) || (s.location ?? '').toLowerCase().includes(lower)))
      .slice(0, limit)
      .map(subnetHit);
    return {
      q,
      sensors: (await searchSensors(db, q, limit)).map((r) => ({ ...r, lastSeen: iso(r.lastSeen) })),
      locations: await searchLocations(db, q, limit),
      subnets,
      jobs: (await searchJobs(db, q, limit)).map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })),
      users: actor.role === 'admin' ? await searchUsers(db, q, limit) : null,
      address: cidr ? await this.address(cidr, map, window) : null,
    };
  }

  private async address(cidr: Cidr, map: SubnetView[], window: { from: Date; to: Date }): Promise<AddressView> {
    const host = cidr.prefix === (cidr.family === 4 ? 32 : 128);
    const containing = map
      .filter((s) => {
        const p = parseAnyCidr(s.subnet);
        return p.ok && p.cidr.family === cidr.family && p.cidr.prefix <= cidr.prefix && overlaps(p.cidr, cidr);
      })
      .sort((a, b) => prefixOf(b.subnet) - prefixOf(a.subnet));
    const best = containing[0] ?? null;
    const nets = (await reportedNets(this.deps.db, window.from, window.to)).filter((net) => overlapsText(cidr, net));
    const sightings = await sightingsOf(this.deps.db, nets, window.from, window.to);
    const address = host ? cidr.text.slice(0, cidr.text.lastIndexOf('/')) : cidr.text;
    let jobRequest: AddressView['jobRequest'] = null;
    if (sightings.length > 0) {
      const from = new Date(Math.min(...sightings.map((s) => s.firstSeen.getTime())));
      const to = new Date(Math.max(...sightings.map((s) => s.lastSeen.getTime())));
      jobRequest = {
        window: { from: from.toISOString(), to: to.toISOString() },
        filter: { expression: `${host ? 'host' : 'net'} ${address}` },
        targets: { sensors: sightings.map((s) => s.sensor).sort() },
      };
    }
    return {
      query: cidr.text,
      host,
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
      subnet: best ? subnetHit(best) : null,
      location: best?.location ?? null,
      sightings: sightings.map((s) => ({ ...s, firstSeen: s.firstSeen.toISOString(), lastSeen: s.lastSeen.toISOString() })),
      jobRequest,
    };
  }

  /** from/to with defaults (to = now, from = to − defaultWindowDays), checked. */
  private window(fromIn: Date | undefined, toIn: Date | undefined): { from: Date; to: Date } {
    const to = toIn ?? this.now();
    const from = fromIn ?? new Date(to.getTime() - this.deps.settings.defaultWindowDays * DAY_MS);
    if (from.getTime() > to.getTime()) throw invalid('from: must not be after to');
    const max = this.deps.settings.maxWindowDays;
    if (to.getTime() - from.getTime() > max * DAY_MS) throw invalid(`from: the window from–to exceeds network.maxWindowDays (${max} days)`);
    return { from, to };
  }
}

/** The text as an address or network (host bits cleared), or null when it is neither. */
function asCidr(text: string): Cidr | null {
  const r = parseAnyCidr(text);
  return r.ok ? r.cidr : null;
}

function overlapsText(cidr: Cidr, net: string): boolean {
  const p = parseAnyCidr(net);
  return p.ok && overlaps(p.cidr, cidr);
}

function prefixOf(subnet: string): number {
  const p = parseAnyCidr(subnet);
  return p.ok ? p.cidr.prefix : -1;
}

function subnetHit(s: SubnetView): SubnetHit {
  return { subnet: s.subnet, state: s.state, location: s.location, lastSeen: s.lastSeen, bytes: s.bytes };
}

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}
