/**
 * Polling with a deadline: integration tests wait for conditions that other processes make true.
 * The failure names what was awaited and the last value seen, so a CI log explains itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /** What is awaited, for the error message ("sensor alpha online"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Errors of the probe that end the wait at once (rethrown), e.g. a final state other than the awaited one. */
  stopOn?: (err: unknown) => boolean;
}

/**
 * Calls `probe` until it returns a value other than undefined (errors count as "not yet") and
 * returns that value; throws when the deadline passes.
 * @example
 *   const view = await eventually(async () => { const s = await api.sensor('a'); return s.status === 'online' ? s : undefined; },
 *     { what: 'a online', timeoutMs: 30_000 });
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, opts: EventuallyOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'condition not met';
    } catch (err) {
      if (opts.stopOn?.(err)) throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what} (last: ${last})`);
    }
    await sleep(opts.intervalMs ?? 100);
  }
}
