/**
 * Functions that run INSIDE the page (`page.evaluate(fn, arg)`): Playwright sends their source, so
 * they use nothing from this module's scope. The root tsconfig has no DOM lib (it type-checks
 * Node code), so the few DOM shapes they touch are declared here, for this file only.
 */

interface El {
  tagName: string;
  id: string;
  type?: string;
  labels?: { length: number } | null;
  textContent: string | null;
  scrollTop: number;
  clientHeight: number;
  scrollHeight: number;
  scrollWidth: number;
  clientWidth: number;
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): ArrayLike<El>;
}
declare const document: {
  querySelector(selector: string): El | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  getElementById(id: string): El | null;
  activeElement: El | null;
  body: El;
  documentElement: El;
};
declare const window: Record<string, unknown>;
declare function getComputedStyle(el: El): { backgroundColor: string };
declare function requestAnimationFrame(cb: () => void): number;

/** Form controls without an accessible name from <label>, aria-label or aria-labelledby. */
export function unlabelledControls(): string[] {
  const out: string[] = [];
  for (const el of Array.from(document.querySelectorAll('input, select, textarea'))) {
    if (el.tagName === 'INPUT' && el.type === 'hidden') continue;
    const labelled =
      (el.labels?.length ?? 0) > 0 ||
      (el.getAttribute('aria-label') ?? '').trim() !== '' ||
      (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).some((id) => (document.getElementById(id)?.textContent ?? '').trim() !== '');
    if (!labelled) out.push(`${el.tagName.toLowerCase()}#${el.id}[${el.getAttribute('name') ?? ''}]`);
  }
  return out;
}

/** `tag#id "label or text"` of the focused element. */
export function focusedElement(): string {
  const el = document.activeElement;
  if (!el) return 'nothing';
  const label = el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 40) ?? '';
  return `${el.tagName.toLowerCase()}#${el.id} "${label}"`;
}

export function focusedRole(): string | null {
  return document.activeElement?.getAttribute('role') ?? null;
}

/** data-status of a sensor's row in the sensors table. */
export function rowStatus(sensor: string): string | null {
  return document.querySelector(`[role=row][data-key="${sensor}"] [data-status]`)?.getAttribute('data-status') ?? null;
}

/** True when the sensors table shows `sensor` with `status`. */
export function rowStatusIs([sensor, status]: readonly [string, string]): boolean {
  return document.querySelector(`[role=row][data-key="${sensor}"] [data-status]`)?.getAttribute('data-status') === status;
}

export function setMarker(): void {
  window.__e2e = 42;
}

export function marker(): unknown {
  return window.__e2e;
}

export function bodyBackground(): string {
  return getComputedStyle(document.body).backgroundColor;
}

export function horizontalOverflow(): number {
  return document.documentElement.scrollWidth - document.documentElement.clientWidth;
}

/**
 * Replaces the page with the REFERENCE for the scroll measurement: the same number of rows, with
 * similar cells (text, a badge, three bars, a striped availability bar), as plain static HTML in
 * one scroll container — no framework, no virtualisation: what the browser itself costs.
 */
export function showStaticReference(n: number): void {
  const cells = (i: number) =>
    `<div>sensor-${i}</div><div><span class="badge badge-online">online</span></div><div>site-${i % 10}</div><div>${i} s ago</div>` +
    `<div><div class="gauge"><div class="gauge-fill" style="width:${i % 100}%"></div></div></div>`.repeat(3) +
    `<div><div class="avail"><div class="avail-span" style="left:0;width:100%"></div><div class="avail-gap" style="left:50%;width:10%"></div></div></div>`;
  const rows: string[] = [];
  for (let i = 1; i <= n; i++) {
    rows.push(
      `<div role="row" data-key="ref-${String(i).padStart(4, '0')}" style="display:grid;grid-template-columns:1.4fr 100px 1fr 110px 90px 90px 90px 2fr;height:44px;align-items:center">${cells(i)}</div>`,
    );
  }
  (document.body as unknown as { innerHTML: string }).innerHTML = `<div role="grid" style="height:600px;overflow:auto;margin:1rem">${rows.join('')}</div>`;
}

/** Frame-to-frame times (ms) of `n` animation frames with nothing happening: the machine's baseline. */
export function idleFrames(n: number): Promise<number[]> {
  const deltas: number[] = [];
  return new Promise((resolve) => {
    let last = performance.now();
    const frame = () => {
      const now = performance.now();
      deltas.push(now - last);
      last = now;
      if (deltas.length > n) resolve(deltas.slice(1));
      else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

/**
 * Scrolls the sensors grid from top to bottom by `step` px per animation frame; resolves with the
 * frame-to-frame times (ms) and the most rows that were in the DOM at once.
 */
export function scrollGridMeasuringFrames(step: number): Promise<{ deltas: number[]; maxRowsInDom: number; lastKey: string | null }> {
  const grid = document.querySelector('[role=grid]');
  if (!grid) throw new Error('no grid on the page');
  grid.scrollTop = 0;
  const deltas: number[] = [];
  let maxRowsInDom = 0;
  return new Promise((resolve) => {
    let last = performance.now();
    const frame = () => {
      const now = performance.now();
      deltas.push(now - last);
      last = now;
      maxRowsInDom = Math.max(maxRowsInDom, grid.querySelectorAll('[role=row]').length);
      if (grid.scrollTop + grid.clientHeight >= grid.scrollHeight - 1) {
        const rows = Array.from(grid.querySelectorAll('[role=row][data-key]'));
        resolve({
          deltas: deltas.slice(1),
          maxRowsInDom,
          lastKey:
            rows
              .map((r) => r.getAttribute('data-key'))
              .sort()
              .pop() ?? null,
        });
        return;
      }
      grid.scrollTop += step;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}
