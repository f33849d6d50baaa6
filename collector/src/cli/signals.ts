/**
 * Keeps a long-running command alive until SIGINT or SIGTERM, then runs its shutdown once and
 * exits 0 (1 when shutdown failed). A second signal during shutdown exits at once (130).
 */
import type { Logger } from 'pino';

export function stopOnSignal(shutdown: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'stopping');
    shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
