/**
 * A repeating job for long-running processes (the agent's scans and reports, the collector's
 * heartbeat sweep and partition maintenance).
 *
 * Contract:
 * - the first run starts `firstAfterMs` after the call (default 0: at once), each later one `ms`
 *   after the previous run ENDED: never two runs at once, and a run that outlasts the period delays
 *   the next one instead of queueing a burst;
 * - a run that throws (or rejects) goes to `onError` — a function, or a logger whose `warn` gets
 *   `{ err, job: name }` and "<name> failed" — and the schedule goes on;
 * - the returned function stops the schedule: no run starts afterwards, and it resolves once a run
 *   in progress has finished (so nothing touches a resource about to be closed). Calling it again is harmless.
 *
 * @example
 *   const stop = every('health report', 10_000, () => report(), logger, 1_000);
 *   // …
 *   await stop();
 */

/** Where a failed run is reported. */
export type EveryErrorSink = ((err: unknown, name: string) => void) | { warn(obj: object, msg: string): void };

export function every(name: string, ms: number, job: () => unknown, onError: EveryErrorSink, firstAfterMs = 0): () => Promise<void> {
  const report = typeof onError === 'function' ? onError : (err: unknown) => onError.warn({ err, job: name }, `${name} failed`);
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = (): void => {
    timer = null;
    running = (async () => {
      try {
        await job();
      } catch (err) {
        try {
          report(err, name);
        } catch {
          // an error sink that throws must not end the schedule
        }
      }
    })().finally(() => {
      if (!stopped) timer = setTimeout(tick, ms);
    });
  };
  timer = setTimeout(tick, firstAfterMs);
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
