/**
 * Functions that run INSIDE the page for jobs-1000.test.ts (`page.evaluate(fn, arg)`), like
 * page-scripts.ts: Playwright sends their source, so they use nothing from this module's scope; the
 * root tsconfig has no DOM lib, so the DOM shapes they touch are declared here, for this file only.
 */

interface Scroller {
  scrollTop: number;
  clientHeight: number;
  scrollHeight: number;
}
interface PerfEntry {
  duration: number;
}
declare const document: { scrollingElement: Scroller | null; querySelectorAll(selector: string): ArrayLike<unknown> };
declare const PerformanceObserver: new (cb: (list: { getEntries(): PerfEntry[] }) => void) => {
  observe(opts: { type: string; buffered?: boolean }): void;
  disconnect(): void;
};
declare function requestAnimationFrame(cb: () => void): number;

/** Scrolls the document from top to bottom by `step` px a frame; frame-to-frame times (ms) and long tasks while it ran. */
export function scrollPageMeasuringFrames(step: number): Promise<{ deltas: number[]; longTasks: number[] }> {
  const el = document.scrollingElement;
  if (!el) throw new Error('no scrolling element');
  el.scrollTop = 0;
  const deltas: number[] = [];
  const longTasks: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
  observer.observe({ type: 'longtask' });
  return new Promise((resolve) => {
    let last = performance.now();
    const frame = () => {
      const now = performance.now();
      deltas.push(now - last);
      last = now;
      if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) {
        observer.disconnect();
        resolve({ deltas: deltas.slice(1), longTasks });
        return;
      }
      el.scrollTop += step;
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

/**
 * Frame-to-frame times and long tasks for `ms` milliseconds with nothing driven by the page (the
 * test changes jobs meanwhile); also the number of rows matching `selector` at the end.
 */
export function framesFor([ms, selector]: readonly [number, string]): Promise<{ deltas: number[]; longTasks: number[]; matching: number }> {
  const deltas: number[] = [];
  const longTasks: number[] = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
  observer.observe({ type: 'longtask' });
  const start = performance.now();
  return new Promise((resolve) => {
    let last = start;
    const frame = () => {
      const now = performance.now();
      deltas.push(now - last);
      last = now;
      if (now - start >= ms) {
        observer.disconnect();
        resolve({ deltas: deltas.slice(1), longTasks, matching: document.querySelectorAll(selector).length });
        return;
      }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

/**
 * Replaces the page with the REFERENCE for the jobs list's scroll measurement: a plain static HTML
 * table of `n` rows with the same columns (a link, owner, a status badge, a progress bar, window,
 * packets, created, two buttons) — no framework: what the browser itself costs for such a table.
 */
export function showStaticJobsReference(n: number): void {
  const rows: string[] = [];
  for (let i = 1; i <= n; i++) {
    rows.push(
      `<tr data-ref="${i}"><td><a href="#">seeded ${i}</a></td><td>token:collector-admin</td><td><span class="badge job-badge">complete</span></td>` +
        `<td><span class="progress"><span class="progress-track" role="progressbar" aria-label="p${i}" aria-valuenow="${i % 100}"><span class="progress-fill" style="width:${i % 100}%"></span></span><span class="progress-text">${i % 100} %</span></span></td>` +
        `<td>Dec 7, 2026, 10:00:00 – Dec 7, 2026, 10:10:00</td><td>${i * 17}</td><td>Dec 7, 2026, 10:20:00</td>` +
        `<td><button type="button">Cancel</button> <button type="button">Delete</button></td></tr>`,
    );
  }
  (document as unknown as { body: { innerHTML: string } }).body.innerHTML =
    `<main><div class="table-scroll"><table class="jobs-table"><thead><tr><th>Job</th><th>Owner</th><th>Status</th><th>Progress</th><th>Window</th><th>Packets</th><th>Created</th><th>Actions</th></tr></thead><tbody>${rows.join('')}</tbody></table></div></main>`;
}
