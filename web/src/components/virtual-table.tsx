/**
 * A virtualised table (ARIA grid) for thousands of rows: only the rows in view (plus `overscan`)
 * exist in the DOM, positioned inside a spacer as tall as all rows.
 *
 * Keyboard: the grid is one tab stop; ↑/↓, PageUp/PageDown, Home/End move the active row (kept in
 * view, announced through aria-activedescendant); Enter calls `onActivate(row)`.
 * Rows have a fixed height (`rowHeight`, px).
 */
import { createMemo, createSignal, createUniqueId, For, onCleanup, onMount, type JSX } from 'solid-js';

export interface Column<T> {
  key: string;
  header: string;
  /** A CSS grid track: '2fr', '120px', 'minmax(100px, 1fr)'. */
  width: string;
  cell: (row: T) => JSX.Element;
  /** Hidden below 700 px viewport width (phone layout). */
  optional?: boolean;
}

export interface VirtualTableProps<T> {
  label: string;
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  rowHeight?: number;
  overscan?: number;
  onActivate?: (row: T) => void;
  /** Called when the active row changes (keys or a click): a list that shows the active row's detail. */
  onActiveChange?: (row: T) => void;
  /** Index of the row active at first (kept in view). Default 0. */
  initialActive?: number;
  /** Height of the scroll area (CSS). Default 70vh. */
  height?: string;
}

const FALLBACK_VIEWPORT_PX = 600;

export function VirtualTable<T>(props: VirtualTableProps<T>): JSX.Element {
  const rowHeight = () => props.rowHeight ?? 44;
  const overscan = () => props.overscan ?? 8;
  const id = createUniqueId();
  const [scrollTop, setScrollTop] = createSignal(0);
  const [viewport, setViewport] = createSignal(FALLBACK_VIEWPORT_PX);
  const [active, setActive] = createSignal(props.initialActive ?? 0);
  let scroller!: HTMLDivElement;

  onMount(() => {
    const measure = () => setViewport(scroller.clientHeight || FALLBACK_VIEWPORT_PX);
    measure();
    if (active() > 0) moveTo(active());
    if (typeof ResizeObserver === 'function') {
      const ro = new ResizeObserver(measure);
      ro.observe(scroller);
      onCleanup(() => ro.disconnect());
    }
  });

  const template = () => props.columns.map((c) => c.width).join(' ');
  const range = createMemo(() => {
    const first = Math.max(0, Math.floor(scrollTop() / rowHeight()) - overscan());
    const last = Math.min(props.rows.length, Math.ceil((scrollTop() + viewport()) / rowHeight()) + overscan());
    return { first, last };
  });
  const visible = createMemo(() => {
    const { first, last } = range();
    const out: number[] = [];
    for (let i = first; i < last; i++) out.push(i);
    return out;
  });
  const clampedActive = () => Math.min(active(), Math.max(0, props.rows.length - 1));
  const rowId = (index: number) => `${id}-row-${index}`;

  function moveTo(index: number): void {
    const i = Math.max(0, Math.min(props.rows.length - 1, index));
    select(i);
    const top = i * rowHeight();
    const headerPx = rowHeight();
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + rowHeight() > scroller.scrollTop + viewport() - headerPx) scroller.scrollTop = top + rowHeight() - viewport() + headerPx;
    setScrollTop(scroller.scrollTop);
  }

  function select(i: number): void {
    if (i === active()) return;
    setActive(i);
    const row = props.rows[i];
    if (row !== undefined) props.onActiveChange?.(row);
  }

  function onKeyDown(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(viewport() / rowHeight()) - 1);
    const moves: Record<string, number> = {
      ArrowDown: clampedActive() + 1,
      ArrowUp: clampedActive() - 1,
      PageDown: clampedActive() + page,
      PageUp: clampedActive() - page,
      Home: 0,
      End: props.rows.length - 1,
    };
    const target = moves[e.key];
    if (target !== undefined) {
      e.preventDefault();
      moveTo(target);
    } else if (e.key === 'Enter') {
      const row = props.rows[clampedActive()];
      if (row !== undefined && props.onActivate) {
        e.preventDefault();
        props.onActivate(row);
      }
    }
  }

  return (
    <div
      ref={scroller}
      class="vtable"
      role="grid"
      aria-label={props.label}
      aria-rowcount={props.rows.length + 1}
      aria-activedescendant={props.rows.length > 0 ? rowId(clampedActive()) : undefined}
      tabindex="0"
      style={{ height: props.height ?? '70vh' }}
      onScroll={() => setScrollTop(scroller.scrollTop)}
      onKeyDown={onKeyDown}
    >
      <div class="vtable-head" role="row" aria-rowindex={1} style={{ 'grid-template-columns': template(), height: `${rowHeight()}px` }}>
        <For each={props.columns}>
          {(c) => (
            <div role="columnheader" class={c.optional ? 'vtable-optional' : undefined}>
              {c.header}
            </div>
          )}
        </For>
      </div>
      <div class="vtable-body" role="rowgroup" style={{ height: `${props.rows.length * rowHeight()}px` }}>
        <For each={visible()}>
          {(index) => {
            const row = () => props.rows[index]!;
            return (
              <div
                id={rowId(index)}
                role="row"
                aria-rowindex={index + 2}
                aria-selected={index === clampedActive()}
                class="vtable-row"
                classList={{ 'vtable-active': index === clampedActive() }}
                data-key={props.rowKey(row())}
                style={{
                  'grid-template-columns': template(),
                  height: `${rowHeight()}px`,
                  transform: `translateY(${index * rowHeight()}px)`,
                }}
                onClick={() => select(index)}
              >
                <For each={props.columns}>
                  {(c) => (
                    <div role="gridcell" class={c.optional ? 'vtable-optional' : undefined}>
                      {c.cell(row())}
                    </div>
                  )}
                </For>
              </div>
            );
          }}
        </For>
      </div>
    </div>
  );
}
