/**
 * What the fleet services need from a broker that keeps its own accounts (an external Mosquitto
 * with dynamic security, broker/dynsec-accounts.ts). The embedded broker checks every login
 * against the database, so it needs none of this (`noBrokerAccounts`).
 *
 * Each call has finished at the broker when its promise resolves: a sensor whose secret was set
 * can log in with it, and the broker itself has disconnected the client's sessions (a changed
 * password or a deleted account ends them). A rejection means the broker did not take the change.
 */
import type { Db } from '../../storage/db.js';
import { activeSensorCount, integrationAccountNames, sensorAccountStates } from '../../storage/broker-accounts.repo.js';

export interface BrokerAccounts {
  /** True when the broker keeps accounts of its own (calls below do something). */
  readonly managed: boolean;
  /** Creates sensor `name`'s account with its ACL if missing, and sets its password. */
  setSensorSecret(name: string, secret: string): Promise<void>;
  /** Deletes sensor `name`'s account (no error when there is none). */
  removeSensor(name: string): Promise<void>;
  /** Creates integration `name`'s account with its ACL if missing, and sets its password. */
  setIntegrationSecret(name: string, secret: string): Promise<void>;
  /** Deletes integration `name`'s account (no error when there is none). */
  removeIntegration(name: string): Promise<void>;
}

/** For brokers that check logins against the database themselves. */
export const noBrokerAccounts: BrokerAccounts = {
  managed: false,
  setSensorSecret: async () => {},
  removeSensor: async () => {},
  setIntegrationSecret: async () => {},
  removeIntegration: async () => {},
};

/** What the broker's accounts should be, from the database: every sensor (revoked or not) and every integration. */
export async function desiredBrokerAccounts(db: Db): Promise<{ sensors: { name: string; revoked: boolean }[]; integrations: string[] }> {
  return { sensors: await sensorAccountStates(db), integrations: await integrationAccountNames(db) };
}

/** Sensors not revoked: the fleet the broker must hold connections for. */
export function fleetSize(db: Db): Promise<number> {
  return activeSensorCount(db);
}
