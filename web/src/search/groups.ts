/**
 * The search box's results (GET /search), grouped by kind in a fixed order, each hit with the page
 * it opens; and the "capture this" link of an address into the job form.
 *
 * The job form's URL parameters (agreed with the jobs pages, /tmp/dashboard-coordination.md):
 *   /jobs/new?filter=<expression>&from=<ISO 8601>&to=<ISO 8601>&sensors=<name,name,…>&host=<address>
 *   - filter:  a filter expression ('host 10.1.2.3', 'net 10.1.0.0/16') → expression mode
 *   - from/to: the capture window (ISO 8601 with zone)
 *   - sensors: comma-separated sensor names → targets by sensors
 *   - host:    the bare address for a single host (the structured form's hosts field)
 */
import type { SearchView } from '../api/types.js';

export type SearchKind = 'address' | 'sensors' | 'locations' | 'subnets' | 'jobs' | 'users';

export interface SearchItem {
  key: string;
  label: string;
  detail: string;
  href: string;
}

export interface SearchGroup {
  kind: SearchKind;
  title: string;
  items: SearchItem[];
}

const enc = encodeURIComponent;
const fmtBytes = (n: number) =>
  n < 1000 ? `${n} B` : n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : n < 1e9 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e9).toFixed(1)} GB`;

/** The job form's URL for a ready job request of GET /search (see the parameters above). */
export function captureHref(req: NonNullable<NonNullable<SearchView['address']>['jobRequest']>, host: string | null): string {
  const p = new URLSearchParams({
    filter: req.filter.expression,
    from: req.window.from,
    to: req.window.to,
    sensors: req.targets.sensors.join(','),
  });
  if (host) p.set('host', host);
  return `/jobs/new?${p}`;
}

/** The non-empty groups of a search answer, in the order address, sensors, locations, subnets, jobs, users. */
export function searchGroups(view: SearchView): SearchGroup[] {
  const groups: SearchGroup[] = [];
  const a = view.address;
  if (a) {
    const items: SearchItem[] = a.sightings.map((s) => ({
      key: `seen:${s.sensor}`,
      label: `Seen by ${s.sensor}`,
      detail: `${s.location ?? 'no location'}; ${fmtBytes(s.bytes)}, ${s.firstSeen} – ${s.lastSeen}`,
      href: `/sensors/${enc(s.sensor)}`,
    }));
    if (a.subnet) {
      items.unshift({
        key: `in:${a.subnet.subnet}`,
        label: `In ${a.subnet.subnet}`,
        detail: a.location ? `location ${a.location}` : a.subnet.state,
        href: a.location ? `/network?location=${enc(a.location)}` : '/network',
      });
    }
    if (items.length === 0)
      items.push({ key: 'unseen', label: `${a.query}: not seen`, detail: `no sensor's traffic carried it since ${a.window.from}`, href: '/network' });
    groups.push({ kind: 'address', title: `Address ${a.query}`, items });
  }
  const add = (kind: SearchKind, title: string, items: SearchItem[]) => {
    if (items.length > 0) groups.push({ kind, title, items });
  };
  add(
    'sensors',
    'Sensors',
    view.sensors.map((s) => ({
      key: `sensor:${s.name}`,
      label: s.name,
      detail: [s.status, s.location, s.hostname].filter(Boolean).join(' · '),
      href: `/sensors/${enc(s.name)}`,
    })),
  );
  add(
    'locations',
    'Locations',
    view.locations.map((l) => ({
      key: `location:${l.name}`,
      label: l.name,
      detail: `${l.sensors} sensors${l.description ? ` · ${l.description}` : ''}`,
      href: `/network?location=${enc(l.name)}`,
    })),
  );
  add(
    'subnets',
    'Subnets',
    view.subnets.map((s) => ({
      key: `subnet:${s.subnet}`,
      label: s.subnet,
      detail: `${s.state}${s.location ? ` · ${s.location}` : ''} · ${fmtBytes(s.bytes)}`,
      href: s.location ? `/network?location=${enc(s.location)}` : '/network',
    })),
  );
  add(
    'jobs',
    'Jobs',
    view.jobs.map((j) => ({
      key: `job:${j.id}`,
      label: j.name ?? j.id,
      detail: `${j.status} · ${j.owner} · ${j.filter}`,
      href: `/jobs/${enc(j.id)}`,
    })),
  );
  add(
    'users',
    'Users',
    (view.users ?? []).map((u) => ({
      key: `user:${u.username}`,
      label: u.username,
      detail: `${u.role}${u.disabled ? ' · disabled' : ''}`,
      href: '/admin/users',
    })),
  );
  return groups;
}
