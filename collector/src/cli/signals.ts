/**
 * SIGHUP re-reads the TLS certificate files (collector.reloadTls()): new connections get the new
 * certificate; a refused file keeps the old one (logged).
 */
export function reloadTlsOnHangup(collector: { reloadTls(): { http: boolean; mqtt: boolean } }, log: Logger): void {
  process.on('SIGHUP', () => {
    const reloaded = collector.reloadTls();
    log.info({ component: 'tls', signal: 'SIGHUP', ...reloaded }, 'certificates reloaded');
  });
}

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
