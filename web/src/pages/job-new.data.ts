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
