/**
 * The new-job form's model: the fields as typed, the request they make (`buildJobRequest`, which
 * throws naming the field for what the browser can tell is wrong), and the live validation — a
 * dry run (POST /jobs {dryRun: true}) debounced after each change, whose plan is the coverage
 * preview and whose 400 is shown under the field it names (`fieldOfError`), a filter error with its
 * character position (`filterErrorPosition`).
 */
import { createSignal, onCleanup } from 'solid-js';
import { ApiError, type JobSubmit } from '../api/client.js';
import type { JobPlan, JobTargets } from '../api/types.js';
import type { AppServices } from '../context.jsx';

export type FilterMode = 'structured' | 'expression';
export type TargetMode = 'auto' | 'sensors' | 'locations';

export interface JobFields {
  name: string;
  filterMode: FilterMode;
  expression: string;
  hosts: string;
  nets: string;
  ports: string;
  protocol: string;
  direction: 'either' | 'src' | 'dst';
  /** ms since epoch */
  from: number;
  to: number;
  targetMode: TargetMode;
  sensors: string[];
  locations: string[];
}

export type JobField = 'name' | 'filter' | 'window' | 'targets' | 'limits' | 'general';

export class FieldError extends Error {
  constructor(
    readonly field: JobField,
    message: string,
  ) {
    super(message);
  }
}

const list = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** The POST /jobs body of the fields. Throws FieldError for a port that is no number or an empty target list. */
export function buildJobRequest(f: JobFields): JobSubmit {
  let filter: JobSubmit['filter'];
  if (f.filterMode === 'expression') filter = { expression: f.expression };
  else {
    const ports = list(f.ports).map((p) => {
      if (!/^\d+$/.test(p) || Number(p) > 65_535) throw new FieldError('filter', `ports: ${JSON.stringify(p)} is not a port (0-65535)`);
      return Number(p);
    });
    const hosts = list(f.hosts);
    const nets = list(f.nets);
    filter = {
      ...(hosts.length ? { hosts } : {}),
      ...(nets.length ? { nets } : {}),
      ...(ports.length ? { ports } : {}),
      ...(f.protocol ? { protocol: f.protocol } : {}),
      ...(f.direction !== 'either' && (hosts.length || nets.length || ports.length) ? { direction: f.direction } : {}),
    };
    if (Object.keys(filter).length === 0) filter = { expression: '' };
  }
  if (!(f.from < f.to)) throw new FieldError('window', 'window: the start must be before the end');
  let targets: JobTargets;
  if (f.targetMode === 'auto') targets = { auto: true };
  else if (f.targetMode === 'sensors') {
    if (f.sensors.length === 0) throw new FieldError('targets', 'targets: choose at least one sensor');
    targets = { sensors: f.sensors };
  } else {
    if (f.locations.length === 0) throw new FieldError('targets', 'targets: choose at least one location');
    targets = { locations: f.locations };
  }
  const name = f.name.trim();
  return { ...(name ? { name } : {}), window: { from: new Date(f.from).toISOString(), to: new Date(f.to).toISOString() }, filter, targets };
}

/** The URL parameters the job form reads (search/groups.ts captureHref writes them). */
export interface FormParams {
  filter?: string | undefined;
  host?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  sensors?: string | undefined;
  locations?: string | undefined;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * The form's first fields from its URL (`?filter=&from=&to=&sensors=&locations=&host=`, the "capture
 * this" link of the search box) over `defaults`: a bare `host` (alone, or with the filter
 * `host <host>`) fills the structured hosts field, any other filter the expression; `from`/`to` (ISO
 * 8601 with a zone) the window when both parse and from < to; `sensors` / `locations`
 * (comma-separated) the targets. What cannot be used is left at its default and named in `problems`.
 */
export function fieldsFromParams(p: FormParams, defaults: JobFields): { fields: JobFields; problems: string[] } {
  const fields = { ...defaults };
  const problems: string[] = [];
  const host = p.host?.trim() ?? '';
  const filter = p.filter?.trim() ?? '';
  if (host && (filter === '' || filter === `host ${host}`)) {
    fields.filterMode = 'structured';
    fields.hosts = host;
  } else if (filter) {
    fields.filterMode = 'expression';
    fields.expression = filter;
  }
  if (p.from !== undefined || p.to !== undefined) {
    const parse = (name: string, text: string | undefined): number | null => {
      const ms = text !== undefined && ISO_WITH_ZONE.test(text) ? Date.parse(text) : NaN;
      if (Number.isNaN(ms)) problems.push(`${name}: ${JSON.stringify(text ?? '')} is not an ISO 8601 time with a zone`);
      return Number.isNaN(ms) ? null : ms;
    };
    const from = parse('from', p.from);
    const to = parse('to', p.to);
    if (from !== null && to !== null) {
      if (from < to) Object.assign(fields, { from, to });
      else problems.push('window: from must be before to');
    }
  }
  const names = (s: string | undefined) => list(s ?? '');
  if (names(p.sensors).length > 0) Object.assign(fields, { targetMode: 'sensors', sensors: names(p.sensors) });
  else if (names(p.locations).length > 0) Object.assign(fields, { targetMode: 'locations', locations: names(p.locations) });
  return { fields, problems };
}

/** The 0-based position in a filter error (`filter: at 8: expected …`), or null. */
export function filterErrorPosition(message: string): number | null {
  const m = /^filter: at (\d+):/.exec(message);
  return m ? Number(m[1]) : null;
}

/** The field a 400 message of POST /jobs names (`filter: …`, `window …`, `targets: …`, `limits.…`). */
export function fieldOfError(message: string): JobField {
  const m = /^(name|filter|window|targets|limits)\b/.exec(message);
  return (m?.[1] as JobField | undefined) ?? 'general';
}

export const DRY_RUN_DEBOUNCE_MS = 400;

export type Validation =
  { state: 'idle' } | { state: 'checking' } | { state: 'ok'; plan: JobPlan } | { state: 'invalid'; field: JobField; message: string; position: number | null };

/**
 * Live validation: `check(fields)` after each change; the dry run runs `debounceMs` after the last
 * one, and an answer to an older check never overwrites a newer one.
 */
export function createJobValidation(app: Pick<AppServices, 'api'>, debounceMs = DRY_RUN_DEBOUNCE_MS) {
  const [validation, setValidation] = createSignal<Validation>({ state: 'idle' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;
  onCleanup(() => clearTimeout(timer));

  function invalid(err: unknown): Validation {
    const message = err instanceof Error ? err.message : String(err);
    const field = err instanceof FieldError ? err.field : fieldOfError(message);
    return { state: 'invalid', field, message, position: field === 'filter' ? filterErrorPosition(message) : null };
  }

  function check(fields: JobFields): void {
    clearTimeout(timer);
    const gen = ++generation;
    let body: JobSubmit;
    try {
      body = buildJobRequest(fields);
    } catch (err) {
      setValidation(invalid(err));
      return;
    }
    setValidation({ state: 'checking' });
    timer = setTimeout(() => {
      app.api.dryRunJob(body).then(
        ({ plan }) => {
          if (gen === generation) setValidation({ state: 'ok', plan });
        },
        (err: unknown) => {
          if (gen !== generation) return;
          if (err instanceof ApiError && err.status === 400) setValidation(invalid(err));
          else setValidation({ state: 'invalid', field: 'general', message: `the plan could not be checked: ${(err as Error).message}`, position: null });
        },
      );
    }, debounceMs);
  }

  return { validation, check };
}
