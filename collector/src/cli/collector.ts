/** `pcapmesh collector`: runs the collector until SIGINT/SIGTERM. */
import { createCollector } from '../app.js';
import type { CliContext } from './context.js';
import { printReady } from './ready.js';
import { stopOnSignal } from './signals.js';

export async function runCollector({ config, log }: CliContext): Promise<void> {
  const collector = createCollector(config, { log });
  await collector.start();
  stopOnSignal(() => collector.stop(), log);
  if (collector.apiTokenFile) process.stderr.write(`API token written to ${collector.apiTokenFile}\n`);
  if (collector.generatedAdminPassword) {
    process.stderr.write(`first start: user "admin" created with password ${collector.generatedAdminPassword} (shown only this once; change it with "pcapmesh user passwd admin")\n`);
  }
  printReady({ http: collector.httpUrl, mqtt: collector.mqttPort, ...(collector.mqttsPort !== null ? { mqtts: collector.mqttsPort } : {}) });
}
