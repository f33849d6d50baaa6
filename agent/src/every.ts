/**
 * Runs `job` after `firstAfterMs` (default: at once) and then every `ms`, never two runs at once: a
 * run that outlasts the period delays the next one. A failing run is logged with the job's name
 * and does not stop the schedule. Returns a function that stops it and waits for a run in
 * progress.
 */
import type { Logger } from 'pino';

export function every(name: string, ms: number, job: () => unknown, logger: Logger, firstAfterMs = 0): () => Promise<void> {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = (): void => {
    timer = null;
    running = (async () => {
      try {
        await job();
      } catch (err) {
        logger.warn({ err, job: name }, `${name} failed`);
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
