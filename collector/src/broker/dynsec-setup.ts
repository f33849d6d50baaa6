/**
 * The collector start's broker-accounts step (app.ts calls `openBrokerAccounts` before the broker
 * connection opens):
 *
 * - reports at start when the open-file limit is too low for the fleet (fd-limit.ts; the fleet is
 *   the larger of `mqtt.expectedSensors` and the sensors not revoked);
 * - with `mqtt.accounts: dynamic-security` (external Mosquitto): opens the plugin connection
 *   (refusing the start with a message saying what to configure when there is no plugin or the
 *   account is no admin), gives the collector's account its role (shared subscription, commands,
 *   events), and reconciles the sensor and integration accounts with the database
 *   (dynsec-accounts.ts) — before the collector subscribes, so its own role is in place;
 * - otherwise (embedded broker, or accounts kept by the broker's operator): `noBrokerAccounts`.
 *
 * `accounts` goes to the enrolment and integration services; `close()` ends the plugin connection.
 */
import type { Logger } from 'pino';
import type { CollectorConfig } from '../config.js';
import { desiredBrokerAccounts, fleetSize, noBrokerAccounts, type BrokerAccounts } from '../domain/fleet/broker-accounts.js';
import type { Db } from '../storage/db.js';
import { DynsecAccounts } from './dynsec-accounts.js';
import { openDynsecClient } from './dynsec-client.js';
import { checkFdLimit } from './fd-limit.js';

/** Names listed in one log line at most. */
const LOG_NAMES = 20;

export interface OpenedBrokerAccounts {
  accounts: BrokerAccounts;
  close(): Promise<void>;
}

export async function openBrokerAccounts(config: CollectorConfig, db: Db, log: Logger, clientId: string): Promise<OpenedBrokerAccounts> {
  const { mqtt } = config;
  const fleet = Math.max(mqtt.expectedSensors ?? 0, await fleetSize(db));
  const fd = checkFdLimit(fleet, mqtt.mode);
  if (fd.warning) log.warn({ component: 'broker', fleet, openFileLimit: fd.limit, needed: fd.needed }, fd.warning);

  if (mqtt.accounts !== 'dynamic-security') return { accounts: noBrokerAccounts, close: async () => {} };
  if (mqtt.url === undefined || mqtt.username === undefined) throw new Error('mqtt.accounts dynamic-security needs mqtt.url and mqtt.username');
  const client = await openDynsecClient({ url: mqtt.url, username: mqtt.username, password: mqtt.password, clientId: `${clientId}-dynsec`, log });
  const accounts = new DynsecAccounts(client, log.child({ component: 'dynsec' }), mqtt.username);
  try {
    await accounts.ensureCollectorRole(mqtt.sharedGroup);
    const started = Date.now();
    const summary = await accounts.reconcile(() => desiredBrokerAccounts(db));
    const { withoutPassword, ...counts } = summary;
    log.info({ component: 'dynsec', ...counts, ms: Date.now() - started }, 'broker accounts reconciled with the database');
    if (withoutPassword.length > 0) {
      log.warn(
        { component: 'dynsec', accounts: withoutPassword.slice(0, LOG_NAMES), count: withoutPassword.length },
        'broker accounts created without a password (the database keeps only a hash of each secret): rotate these sensors (POST /api/v1/admin/sensors/{name}/rotate) or enrol them again; integrations: delete and create them again',
      );
    }
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return { accounts, close: () => client.close() };
}
