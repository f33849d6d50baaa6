/**
 * Submit's checks and plan (docs/jobs.md): validates a JobRequest against the jobs.* settings,
 * resolves its targets to sensors, and works out per sensor how much of the window its reported
 * PCAP availability covers. Pure functions over the request, the settings and sensor views: no
 * database, no broker (the dry run's estimates are asked by DryRunEstimates and merged in here).
 *
 * Every refusal is DomainError('invalid') whose message names the field: "filter: at 12: expected
 * ..., got 'xx'", "window of 700000 s exceeds jobs.maxWindowSeconds (604800)", "targets: unknown
 * sensor 'edge-9'", "limits.maxBytes 1e12 exceeds jobs.ceilings.maxBytes (68719476736)".
 */
import {
  FilterFieldError,
  FilterSyntaxError,
  FilterUnsupportedError,
  formatFilter,
  parseFilter,
  structuredToFilter,
  type FilterNode,
  type Network,
} from '@pcapmesh/shared/pcap/filter/index';
import type { EstimateMessage, PcapSource } from '@pcapmesh/shared/wire';
import { invalid } from '../errors.js';
import type { SensorView } from '../sensors/sensors.types.js';
import type { JobFilterInput, JobLimits, JobPlan, JobRequest, JobTargets, PlanEntry } from './jobs.types.js';
import { intersect, isoOfNs, length, nsOfTimestamp, NS_PER_SECOND, subtract, union, windowView, type Interval } from './window.js';

export interface PlannerSettings {
  defaultLimits: JobLimits;
  ceilings: JobLimits;
  maxWindowSeconds: number;
}

export interface ValidatedRequest {
  name: string | null;
  window: Interval;
  filter: JobFilterInput;
  /** The canonical expression the sensors run. */
  expression: string;
  targets: JobTargets;
  limits: JobLimits;
}

/** The longest filter text a task command carries (taskCommandSchema). */
const MAX_EXPRESSION = 4096;
/** Gaps listed per sensor in a plan; more are summed into the fraction only. */
const MAX_GAPS = 100;

/** Checks everything but the targets (which need the sensors); throws DomainError('invalid'). */
export function validateRequest(req: JobRequest, settings: PlannerSettings): ValidatedRequest {
  const name = req.name === undefined || req.name === null ? null : req.name.trim();
  if (name !== null && (name.length < 1 || name.length > 256)) throw invalid('name: must be 1 to 256 characters');
  const { from, to } = req.window;
  if (to <= from) throw invalid(`window: to (${isoOfNs(to)}) must be after from (${isoOfNs(from)})`);
  const seconds = (to - from + NS_PER_SECOND - 1n) / NS_PER_SECOND;
  if (seconds > BigInt(settings.maxWindowSeconds)) {
    throw invalid(`window of ${seconds} s exceeds jobs.maxWindowSeconds (${settings.maxWindowSeconds})`);
  }
  return {
    name,
    window: { from, to },
    filter: req.filter,
    expression: canonicalFilter(req.filter),
    targets: validTargets(req.targets),
    limits: limitsOf(req.limits, settings),
  };
}

/** The canonical expression of a filter as submitted; a syntax error's position reaches the message. */
export function canonicalFilter(filter: JobFilterInput): string {
  let ast: FilterNode;
  try {
    ast = 'expression' in filter ? parseFilter(String(filter.expression)) : structuredToFilter(filter);
  } catch (err) {
    if (err instanceof FilterSyntaxError || err instanceof FilterUnsupportedError || err instanceof FilterFieldError) {
      throw invalid(`filter: ${err.message}`);
    }
    throw err;
  }
  const expression = formatFilter(ast);
  if (expression.length > MAX_EXPRESSION) throw invalid(`filter: the expression is ${expression.length} characters, at most ${MAX_EXPRESSION}`);
  return expression;
}

function validTargets(targets: JobTargets): JobTargets {
  if ('auto' in targets) {
    if (targets.auto !== true) throw invalid('targets: auto must be true');
    return { auto: true };
  }
  if ('sensors' in targets) {
    if (targets.sensors.length === 0) throw invalid('targets: sensors is empty');
    return { sensors: [...new Set(targets.sensors)] };
  }
  if ('locations' in targets) {
    if (targets.locations.length === 0) throw invalid('targets: locations is empty');
    return { locations: [...new Set(targets.locations)] };
  }
  throw invalid('targets: give sensors, locations or auto: true');
}

function limitsOf(requested: Partial<JobLimits> | undefined, s: PlannerSettings): JobLimits {
  const out = { ...s.defaultLimits };
  for (const key of ['maxBytes', 'maxPackets', 'timeoutSeconds'] as const) {
    const value = requested?.[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw invalid(`limits.${key}: must be a positive integer`);
    if (value > s.ceilings[key]) throw invalid(`limits.${key} ${value} exceeds jobs.ceilings.${key} (${s.ceilings[key]})`);
    out[key] = value;
  }
  return out;
}

/**
 * The sensors a job targets. Unknown sensors or locations are refused by name; `auto` takes every
 * sensor whose availability overlaps the window (or that is online and may still capture into a
 * window reaching past `now`), narrowed to the sensors at `narrowTo` when given (filterLocations:
 * where the subnet map puts the filter's addresses) — unless none of those overlaps the window,
 * then it stays every overlapping sensor.
 */
export function resolveTargets(
  targets: JobTargets,
  sensors: SensorView[],
  window: Interval,
  now: bigint,
  narrowTo: ReadonlySet<string> | null = null,
): SensorView[] {
  const byName = new Map(sensors.map((s) => [s.name, s]));
  if ('sensors' in targets) {
    const unknown = targets.sensors.filter((n) => !byName.has(n));
    if (unknown.length > 0) throw invalid(`targets: unknown sensor${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}`);
    return targets.sensors.map((n) => byName.get(n)!);
  }
  if ('locations' in targets) {
    const known = new Set(sensors.map((s) => s.location).filter((l): l is string => l !== null));
    const unknown = targets.locations.filter((l) => !known.has(l));
    if (unknown.length > 0) throw invalid(`targets: no sensor at location${unknown.length > 1 ? 's' : ''} ${unknown.map((l) => `'${l}'`).join(', ')}`);
    const wanted = new Set(targets.locations);
    return sensors.filter((s) => s.location !== null && wanted.has(s.location));
  }
  const chosen = sensors.filter((s) => availabilityOf(s, window, now).included);
  if (chosen.length === 0) throw invalid('targets: auto found no sensor whose captures overlap the window');
  if (narrowTo === null) return chosen;
  const narrowed = chosen.filter((s) => s.location !== null && narrowTo.has(s.location));
  return narrowed.length > 0 ? narrowed : chosen;
}

/** A network of the filter as CIDR text PostgreSQL reads (`10.1.2.3/32`, `2001:db8:0:0:0:0:0:0/64`). */
function cidrOf(net: Network): string {
  if (net.family === 4) {
    const a = net.addr >>> 0;
    let prefix = 0;
    for (let m = net.mask >>> 0; (m & 0x8000_0000) !== 0; m = (m << 1) >>> 0) prefix++;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${prefix}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => ((net.bytes[2 * i]! << 8) | net.bytes[2 * i + 1]!).toString(16));
  return `${groups.join(':')}/${net.prefix}`;
}

/** The networks a filter names outside any `not` (a negated address says nothing of where packets are). */
export function filterNets(expression: string): string[] {
  const out = new Set<string>();
  const walk = (n: FilterNode): void => {
    if (n.kind === 'address') out.add(cidrOf(n.net));
    else if (n.kind === 'and' || n.kind === 'or') {
      walk(n.left);
      walk(n.right);
    }
  };
  walk(parseFilter(expression));
  return [...out];
}

/**
 * The locations at least one of which saw every packet the filter matches, given where the subnet
 * map puts its networks (`located`: a location, or null for external, ambiguous or unmapped); null
 * when the filter does not restrict that (no address, an address the map does not place, an `or`
 * with a side that has no address, anything under `not`). An address at a location: its sensors;
 * `A or B`: both sides' locations; `A and B`: either side alone is enough, the one with fewer.
 */
export function filterLocations(expression: string, located: ReadonlyMap<string, string | null>): Set<string> | null {
  const scope = (n: FilterNode): Set<string> | null => {
    if (n.kind === 'address') {
      const at = located.get(cidrOf(n.net));
      return at === undefined || at === null ? null : new Set([at]);
    }
    if (n.kind === 'or') {
      const [l, r] = [scope(n.left), scope(n.right)];
      return l === null || r === null ? null : new Set([...l, ...r]);
    }
    if (n.kind === 'and') {
      const [l, r] = [scope(n.left), scope(n.right)];
      if (l === null || r === null) return l ?? r;
      return l.size <= r.size ? l : r;
    }
    return null;
  };
  return scope(parseFilter(expression));
}

/** Coverage of the window by one sensor's reported availability, and whether it gets a task. */
export function availabilityOf(
  sensor: Pick<SensorView, 'status' | 'pcap'>,
  window: Interval,
  now: bigint,
): { fraction: number; gaps: Interval[]; covered: Interval[]; bytesInWindow: number; included: boolean; note?: string } {
  const spans: Interval[] = [];
  let bytesInWindow = 0;
  for (const source of sensor.pcap.sources) {
    const span = sourceSpan(source);
    if (span === null) continue;
    const covered = subtract(
      span,
      source.gaps.map((g) => ({ from: nsOfTimestamp(g.from), to: nsOfTimestamp(g.to) })),
    );
    spans.push(...covered);
    const overlap = intersect(span, window);
    if (overlap !== null) {
      const whole = span.to - span.from;
      bytesInWindow += whole > 0n ? Math.round((source.bytes * Number(overlap.to - overlap.from)) / Number(whole)) : source.bytes;
    }
  }
  const covered = union(spans)
    .map((i) => intersect(i, window))
    .filter((i): i is Interval => i !== null);
  const fraction = Number(length(covered)) / Number(window.to - window.from);
  // Gaps are reported for the part of the window that has already happened.
  const past = intersect(window, { from: window.from, to: now });
  const gaps = past === null ? [] : subtract(past, covered);
  const online = sensor.status === 'online' || sensor.status === 'degraded';
  const mayStillCapture = window.to > now && online && sensor.pcap.sources.some((s) => s.newest !== null);
  if (covered.length > 0 || mayStillCapture) return { fraction, gaps, covered, bytesInWindow, included: true };
  return { fraction, gaps, covered, bytesInWindow, included: false, note: 'no availability overlaps the window' };
}

function sourceSpan(source: PcapSource): Interval | null {
  if (source.oldest === null || source.newest === null) return null;
  const from = nsOfTimestamp(source.oldest);
  // newest is the last packet's time: the span includes it.
  const to = nsOfTimestamp(source.newest) + 1n;
  return to > from ? { from, to } : null;
}

/** One plan entry; `estimate` is the sensor's dry-run answer when it gave one. */
export function planEntry(sensor: SensorView, window: Interval, now: bigint, estimate?: EstimateMessage | 'no-answer'): PlanEntry {
  const a = availabilityOf(sensor, window, now);
  const entry: PlanEntry = {
    sensor: sensor.name,
    location: sensor.location,
    status: sensor.status,
    coverage: {
      fraction: Math.round(a.fraction * 10_000) / 10_000,
      gaps: a.gaps.slice(0, MAX_GAPS).map((g) => ({ from: isoOfNs(g.from), to: isoOfNs(g.to) })),
    },
    bytesInWindow: a.bytesInWindow,
    estimate: null,
    included: a.included,
  };
  if (!a.included) entry.note = a.note!;
  if (estimate !== undefined && estimate !== 'no-answer' && estimate.error === undefined) {
    entry.bytesInWindow = estimate.bytesInWindow;
    entry.estimate = {
      files: estimate.files,
      indexedFiles: estimate.indexedFiles,
      bytesToRead: estimate.bytesToRead,
      matchUpperBound: estimate.matchUpperBound,
    };
  } else if (a.included && entry.note === undefined) {
    if (estimate === 'no-answer') entry.note = 'no estimate: no answer in time';
    else if (estimate !== undefined && estimate.error !== undefined) entry.note = `no estimate: ${estimate.error}`;
    else if (sensor.status !== 'online' && sensor.status !== 'degraded') entry.note = `sensor is ${sensor.status}: the task waits until it is online`;
  }
  return entry;
}

/** The plan as submit returns it. */
export function makePlan(v: ValidatedRequest, entries: PlanEntry[], now: bigint): JobPlan {
  return { window: windowView(v.window), filter: v.expression, limits: v.limits, scheduled: v.window.to > now, sensors: entries };
}
