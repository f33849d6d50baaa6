/**
 * New job (analysts and admins): a name, the filter — structured fields (hosts, nets, ports,
 * protocol, direction) or a tcpdump expression — validated live by a debounced dry run whose error
 * is shown under the field it names (a filter error marks its position), the window with quick
 * ranges (past and future) in UTC or the user's time zone, the targets (automatic, sensors or
 * locations), and the coverage preview of the dry-run plan per target before submitting.
 * Every control is labelled and reachable by keyboard; Enter in a field submits.
 */
import { useNavigate, useSearchParams } from '@solidjs/router';
import { createEffect, createMemo, createSignal, createUniqueId, For, Match, Show, Switch, type JSX } from 'solid-js';
import type { ApiError } from '../api/client.js';
import { CoverageBar } from '../components/coverage-bar.jsx';
import { useToasts } from '../components/toasts.jsx';
import { useApp } from '../context.jsx';
import { formatBytes } from '../state/jobs.js';
import { instantToWall, wallToInstant } from '../time/zone.js';
import { buildJobRequest, createJobValidation, fieldsFromParams, type FormParams, type JobField, type JobFields } from './job-new.data.js';
import '../styles/jobs.css';

const MIN = 60_000;
export const QUICK_RANGES: { label: string; from: number; to: number }[] = [
  { label: 'Last 15 min', from: -15 * MIN, to: 0 },
  { label: 'Last hour', from: -60 * MIN, to: 0 },
  { label: 'Last 6 hours', from: -360 * MIN, to: 0 },
  { label: 'Last 24 hours', from: -1440 * MIN, to: 0 },
  { label: 'Next 15 min', from: 0, to: 15 * MIN },
];

const PROTOCOLS = ['', 'tcp', 'udp', 'icmp', 'icmp6', 'sctp', 'ip', 'ip6', 'arp'];

export function JobForm(props: { now?: () => number; debounceMs?: number; onSubmitted?: (id: string) => void }): JSX.Element {
  const app = useApp();
  const toasts = useToasts();
  const id = createUniqueId();
  const now = () => (props.now ?? Date.now)();
  const [params] = useSearchParams<{ [K in keyof FormParams]: string }>();
  const t0 = Math.floor(now() / MIN) * MIN;
  // The "capture this" link of the search box fills the form (filter, window, targets, host).
  const initial = fieldsFromParams(params, {
    name: '',
    filterMode: 'structured',
    expression: '',
    hosts: '',
    nets: '',
    ports: '',
    protocol: '',
    direction: 'either',
    from: t0 - 15 * MIN,
    to: t0,
    targetMode: 'auto',
    sensors: [],
    locations: [],
  });
  for (const problem of initial.problems) toasts.show({ kind: 'error', text: `The link's ${problem}; the default is used.` });
  const [fields, setFields] = createSignal<JobFields>(initial.fields);
  const set = (patch: Partial<JobFields>) => setFields((f) => ({ ...f, ...patch }));
  const [utc, setUtc] = createSignal(false);
  const zone = () => (utc() ? 'UTC' : app.preferences.timeZone());
  const [submitting, setSubmitting] = createSignal(false);
  const v = createJobValidation(app, props.debounceMs);
  createEffect(() => v.check(fields()));

  const sensorNames = createMemo(() => Object.keys(app.fleet.state.sensors).sort());
  const locations = createMemo(() =>
    [
      ...new Set(
        Object.values(app.fleet.state.sensors)
          .map((s) => s.location)
          .filter((l): l is string => !!l),
      ),
    ].sort(),
  );
  const errorFor = (field: JobField) => {
    const r = v.validation();
    return r.state === 'invalid' && r.field === field ? r.message : null;
  };
  const position = () => {
    const r = v.validation();
    return r.state === 'invalid' && r.field === 'filter' ? r.position : null;
  };
  const plan = () => {
    const r = v.validation();
    return r.state === 'ok' ? r.plan : null;
  };
  const toggle = (key: 'sensors' | 'locations', value: string, on: boolean) =>
    set({ [key]: on ? [...fields()[key], value] : fields()[key].filter((x) => x !== value) });
  const setWall = (key: 'from' | 'to', wall: string) => {
    if (!wall) return;
    try {
      set({ [key]: wallToInstant(wall, zone()) });
    } catch {
      // an incomplete value while typing: keep the last complete one
    }
  };

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    if (submitting()) return;
    let body;
    try {
      body = buildJobRequest(fields());
    } catch (err) {
      toasts.show({ kind: 'error', text: (err as Error).message });
      return;
    }
    setSubmitting(true);
    try {
      const { job } = await app.api.submitJob(body);
      toasts.show({ kind: 'success', text: `Job ${job.name ?? job.id.slice(0, 8)} submitted.` });
      props.onSubmitted?.(job.id);
    } catch (err) {
      toasts.show({ kind: 'error', text: `Submit refused: ${(err as ApiError).message}` });
    } finally {
      setSubmitting(false);
    }
  }

  const expr = () => fields().expression;
  return (
    <form class="job-form" onSubmit={(e) => void submit(e)} aria-label="New job" novalidate>
      <label for={`${id}-name`}>Name (optional)</label>
      <input id={`${id}-name`} value={fields().name} onInput={(e) => set({ name: e.currentTarget.value })} placeholder="incident 42" />

      <fieldset>
        <legend>Filter</legend>
        <div role="radiogroup" aria-label="Kind of filter" class="range-modes">
          <label>
            <input
              type="radio"
              id={`${id}-fmode-fields`}
              name={`${id}-fmode`}
              checked={fields().filterMode === 'structured'}
              onChange={() => set({ filterMode: 'structured' })}
            />{' '}
            Fields
          </label>
          <label>
            <input
              type="radio"
              id={`${id}-fmode-expr`}
              name={`${id}-fmode`}
              checked={fields().filterMode === 'expression'}
              onChange={() => set({ filterMode: 'expression' })}
            />{' '}
            Expression
          </label>
        </div>
        <Show
          when={fields().filterMode === 'expression'}
          fallback={
            <div class="filter-fields">
              <label for={`${id}-hosts`}>Hosts</label>
              <input
                id={`${id}-hosts`}
                value={fields().hosts}
                onInput={(e) => set({ hosts: e.currentTarget.value })}
                placeholder="10.1.2.3, 2001:db8::1"
                aria-describedby={`${id}-filter-err`}
              />
              <label for={`${id}-nets`}>Nets</label>
              <input
                id={`${id}-nets`}
                value={fields().nets}
                onInput={(e) => set({ nets: e.currentTarget.value })}
                placeholder="10.9.0.0/16"
                aria-describedby={`${id}-filter-err`}
              />
              <label for={`${id}-ports`}>Ports</label>
              <input
                id={`${id}-ports`}
                value={fields().ports}
                onInput={(e) => set({ ports: e.currentTarget.value })}
                placeholder="443, 53"
                aria-describedby={`${id}-filter-err`}
              />
              <label for={`${id}-proto`}>Protocol</label>
              <select id={`${id}-proto`} value={fields().protocol} onChange={(e) => set({ protocol: e.currentTarget.value })}>
                <For each={PROTOCOLS}>{(p) => <option value={p}>{p || 'any'}</option>}</For>
              </select>
              <label for={`${id}-dir`}>Direction</label>
              <select id={`${id}-dir`} value={fields().direction} onChange={(e) => set({ direction: e.currentTarget.value as JobFields['direction'] })}>
                <option value="either">to or from</option>
                <option value="src">from (source)</option>
                <option value="dst">to (destination)</option>
              </select>
            </div>
          }
        >
          <label for={`${id}-expr`}>Expression (tcpdump syntax; empty: every packet)</label>
          <textarea
            id={`${id}-expr`}
            rows={2}
            spellcheck={false}
            value={expr()}
            onInput={(e) => set({ expression: e.currentTarget.value })}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                e.currentTarget.form?.requestSubmit();
              }
            }}
            aria-invalid={errorFor('filter') !== null}
            aria-describedby={`${id}-filter-err`}
          />
          <Show when={position() !== null}>
            <pre class="filter-mark" aria-hidden="true" data-position={position()}>
              {expr().slice(0, position()!)}
              <mark>{expr().slice(position()!, position()! + 1) || ' '}</mark>
              {expr().slice(position()! + 1)}
            </pre>
          </Show>
        </Show>
        <p id={`${id}-filter-err`} class="field-error" role="alert" data-field="filter">
          {errorFor('filter') ?? ''}
        </p>
      </fieldset>

      <fieldset>
        <legend>Window ({zone()})</legend>
        <div class="quick-ranges" role="group" aria-label="Quick ranges">
          <For each={QUICK_RANGES}>
            {(r) => (
              <button
                type="button"
                onClick={() => {
                  const n = Math.floor(now() / 1000) * 1000;
                  set({ from: n + r.from, to: n + r.to });
                }}
              >
                {r.label}
              </button>
            )}
          </For>
        </div>
        <label>
          <input type="checkbox" id={`${id}-utc`} checked={utc()} onChange={(e) => setUtc(e.currentTarget.checked)} /> Times in UTC
        </label>
        <label for={`${id}-from`}>From</label>
        <input
          id={`${id}-from`}
          type="datetime-local"
          step="1"
          value={instantToWall(fields().from, zone())}
          onInput={(e) => setWall('from', e.currentTarget.value)}
          aria-describedby={`${id}-window-err`}
        />
        <label for={`${id}-to`}>To</label>
        <input
          id={`${id}-to`}
          type="datetime-local"
          step="1"
          value={instantToWall(fields().to, zone())}
          onInput={(e) => setWall('to', e.currentTarget.value)}
          aria-describedby={`${id}-window-err`}
        />
        <Show when={fields().to > now()}>
          <p class="hint">The window reaches into the future: the sensors wait for it to close.</p>
        </Show>
        <p id={`${id}-window-err`} class="field-error" role="alert" data-field="window">
          {errorFor('window') ?? ''}
        </p>
      </fieldset>

      <fieldset>
        <legend>Targets</legend>
        <div role="radiogroup" aria-label="Kind of targets" class="range-modes">
          <label>
            <input
              type="radio"
              id={`${id}-tmode-auto`}
              name={`${id}-tmode`}
              checked={fields().targetMode === 'auto'}
              onChange={() => set({ targetMode: 'auto' })}
            />{' '}
            Automatic
          </label>
          <label>
            <input
              type="radio"
              id={`${id}-tmode-sensors`}
              name={`${id}-tmode`}
              checked={fields().targetMode === 'sensors'}
              onChange={() => set({ targetMode: 'sensors' })}
            />{' '}
            Sensors
          </label>
          <label>
            <input
              type="radio"
              id={`${id}-tmode-locations`}
              name={`${id}-tmode`}
              checked={fields().targetMode === 'locations'}
              onChange={() => set({ targetMode: 'locations' })}
            />{' '}
            Locations
          </label>
        </div>
        <Switch>
          <Match when={fields().targetMode === 'sensors'}>
            <div class="choices" role="group" aria-label="Sensors">
              <For each={sensorNames()} fallback={<span>No sensors.</span>}>
                {(s) => (
                  <label>
                    <input type="checkbox" checked={fields().sensors.includes(s)} onChange={(e) => toggle('sensors', s, e.currentTarget.checked)} /> {s}
                  </label>
                )}
              </For>
            </div>
          </Match>
          <Match when={fields().targetMode === 'locations'}>
            <div class="choices" role="group" aria-label="Locations">
              <For each={locations()} fallback={<span>No locations.</span>}>
                {(l) => (
                  <label>
                    <input type="checkbox" checked={fields().locations.includes(l)} onChange={(e) => toggle('locations', l, e.currentTarget.checked)} /> {l}
                  </label>
                )}
              </For>
            </div>
          </Match>
        </Switch>
        <p class="field-error" role="alert" data-field="targets">
          {errorFor('targets') ?? errorFor('limits') ?? errorFor('name') ?? errorFor('general') ?? ''}
        </p>
      </fieldset>

      <section class="coverage-preview" aria-label="Coverage preview" aria-live="polite" data-state={v.validation().state}>
        <h2>Coverage</h2>
        <Show when={plan()} fallback={<p>{v.validation().state === 'checking' ? 'Checking…' : 'The plan shows here once the job is valid.'}</p>}>
          {(p) => (
            <>
              <p>
                Filter the sensors run: <code>{p().filter || '(every packet)'}</code>
                {p().scheduled ? ' — scheduled: the window reaches into the future.' : ''}
              </p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Sensor</th>
                    <th scope="col">Status</th>
                    <th scope="col">Coverage</th>
                    <th scope="col">Availability and window</th>
                    <th scope="col">In window</th>
                    <th scope="col">Estimate</th>
                  </tr>
                </thead>
                <tbody>
                  <For
                    each={p().sensors}
                    fallback={
                      <tr>
                        <td colspan="6">No sensor covers this window.</td>
                      </tr>
                    }
                  >
                    {(entry) => (
                      <tr data-plan-sensor={entry.sensor} data-included={entry.included}>
                        <th scope="row">{entry.sensor}</th>
                        <td>{entry.included ? entry.status : `${entry.status}, skipped`}</td>
                        <td>{Math.round(entry.coverage.fraction * 100)} %</td>
                        <td>
                          <CoverageBar sensor={app.fleet.state.sensors[entry.sensor]} window={{ from: fields().from, to: fields().to }} entry={entry} />
                        </td>
                        <td>{formatBytes(entry.bytesInWindow)}</td>
                        <td>
                          {entry.estimate?.matchUpperBound
                            ? `≤ ${formatBytes(entry.estimate.matchUpperBound.bytes)} (${entry.estimate.matchUpperBound.packets.toLocaleString()} packets)`
                            : entry.estimate
                              ? `reads ${formatBytes(entry.estimate.bytesToRead)}`
                              : `≤ ${formatBytes(entry.bytesInWindow)}`}
                          <Show when={entry.note}>
                            <br />
                            <small>{entry.note}</small>
                          </Show>
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </>
          )}
        </Show>
      </section>

      <button type="submit" id={`${id}-submit`} disabled={submitting()}>
        {submitting() ? 'Submitting…' : 'Submit job'}
      </button>
    </form>
  );
}

export default function JobNewPage(): JSX.Element {
  const navigate = useNavigate();
  return (
    <section aria-labelledby="job-new-title">
      <h1 id="job-new-title">New job</h1>
      <JobForm onSubmitted={(jobId) => navigate(`/jobs/${jobId}`)} />
    </section>
  );
}
