/** `pcapmesh collector`: runs the collector until SIGINT/SIGTERM. */
import { createCollector } from '../app.js';
import type { CliContext } from './context.js';
import { printFirstStartNotes, printReady } from './ready.js';
import { reloadTlsOnHangup, stopOnSignal } from './signals.js';

export async function runCollector({ config, log }: CliContext): Promise<void> {
  const collector = createCollector(config, { log });
  await collector.start();
  stopOnSignal(() => collector.stop(), log);
  reloadTlsOnHangup(collector, log);
  printFirstStartNotes(collector, { dataDir: config.dataDir });
  printReady({ http: collector.httpUrl, mqtt: collector.mqttPort, ...(collector.mqttsPort !== null ? { mqtts: collector.mqttsPort } : {}) });
}
