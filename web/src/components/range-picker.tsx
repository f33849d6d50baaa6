/**
 * Date-time range picker: a relative range ("Last hour") from a select, or an absolute range from
 * two datetime-local inputs read and shown in `timeZone` (the user's preference, not the
 * browser's). "Apply" validates (start before end) and calls `onChange`; errors are shown beside
 * the inputs and nothing changes.
 */
import { createSignal, createUniqueId, For, Show, type JSX } from 'solid-js';
import { RELATIVE_RANGES, type TimeRange } from '../time/range.js';
import { instantToWall, wallToInstant } from '../time/zone.js';

export interface RangePickerProps {
  value: TimeRange;
  timeZone: string;
  onChange: (range: TimeRange) => void;
  now?: () => number;
}

export function RangePicker(props: RangePickerProps): JSX.Element {
  const id = createUniqueId();
  const now = () => (props.now ?? Date.now)();
  const initialAbs = () => (props.value.kind === 'absolute' ? { from: props.value.from, to: props.value.to } : { from: now() - 3_600_000, to: now() });
  const [mode, setMode] = createSignal<TimeRange['kind']>(props.value.kind);
  const [relative, setRelative] = createSignal(props.value.kind === 'relative' ? props.value.key : '1h');
  const [fromWall, setFromWall] = createSignal(instantToWall(initialAbs().from, props.timeZone));
  const [toWall, setToWall] = createSignal(instantToWall(initialAbs().to, props.timeZone));
  const [error, setError] = createSignal<string | null>(null);

  function apply(e: Event): void {
    e.preventDefault();
    if (mode() === 'relative') {
      setError(null);
      props.onChange({ kind: 'relative', key: relative() });
      return;
    }
    try {
      const from = wallToInstant(fromWall(), props.timeZone);
      const to = wallToInstant(toWall(), props.timeZone);
      if (!(from < to)) throw new Error('the start must be before the end');
      setError(null);
      props.onChange({ kind: 'absolute', from, to });
    } catch (err) {
      setError((err as Error).message);
    }
  }

  return (
    <form class="range-picker" onSubmit={apply} aria-label="Time range">
      <fieldset>
        <legend>Time range ({props.timeZone})</legend>
        <div class="range-modes" role="radiogroup" aria-label="Kind of range">
          <label>
            <input type="radio" name={`${id}-mode`} checked={mode() === 'relative'} onChange={() => setMode('relative')} /> Relative
          </label>
          <label>
            <input type="radio" name={`${id}-mode`} checked={mode() === 'absolute'} onChange={() => setMode('absolute')} /> Absolute
          </label>
        </div>
        <Show
          when={mode() === 'absolute'}
          fallback={
            <label for={`${id}-rel`}>
              Range
              <select id={`${id}-rel`} value={relative()} onChange={(e) => setRelative(e.currentTarget.value)}>
                <For each={RELATIVE_RANGES}>{(r) => <option value={r.key}>{r.label}</option>}</For>
              </select>
            </label>
          }
        >
          <label for={`${id}-from`}>
            From
            <input
              id={`${id}-from`}
              type="datetime-local"
              value={fromWall()}
              aria-invalid={error() !== null}
              aria-describedby={`${id}-err`}
              onInput={(e) => setFromWall(e.currentTarget.value)}
            />
          </label>
          <label for={`${id}-to`}>
            To
            <input
              id={`${id}-to`}
              type="datetime-local"
              value={toWall()}
              aria-invalid={error() !== null}
              aria-describedby={`${id}-err`}
              onInput={(e) => setToWall(e.currentTarget.value)}
            />
          </label>
        </Show>
        <button type="submit">Apply</button>
        <p id={`${id}-err`} class="field-error" role="alert">
          {error() ?? ''}
        </p>
      </fieldset>
    </form>
  );
}
