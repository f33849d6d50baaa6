/**
 * MQTT integration accounts: read-only subscribers to `pcapmesh/v1/events/#` on the embedded
 * broker, created by an admin. They connect with username `integration:<name>`, the secret shown
 * once at creation, and a client id starting with that username (so they can never take over a
 * sensor's session: sensor names contain no ":"). The broker policy (broker/policy.ts) lets them
 * subscribe to events only and never publish. Deleting an account disconnects its clients.
 * A broker that keeps its own accounts (`accounts`: Mosquitto with dynamic security) gets the
 * account at creation and loses it at deletion; when it refuses, the call fails with
 * `unavailable` (a created row is removed again; a deleted one stays deleted and the broker's
 * account goes at the collector's next start).
 */
import { randomBytes } from 'node:crypto';
import { isValidSensorName } from '@pcapmesh/shared/wire';
import type { Db } from '../../storage/db.js';
import { deleteIntegration, insertIntegration, integrationSecretHash, listIntegrations } from '../../storage/enrolment.repo.js';
import type { AuditService } from '../accounts/audit.service.js';
import { hashMachineSecret, isSha256Hash, matchesSha256, sharedLegacyVerifier } from '../accounts/machine-secrets.js';
import type { KickClients } from './enrolment.service.js';
import { DomainError, conflict, invalid, notFound } from '../errors.js';
import { noBrokerAccounts, type BrokerAccounts } from './broker-accounts.js';

export const INTEGRATION_USER_PREFIX = 'integration:';

export interface IntegrationView {
  name: string;
  username: string;
  createdBy: string | null;
  createdAt: string;
}

export class IntegrationsService {
  constructor(private readonly deps: { db: Db; audit: AuditService; kick: KickClients; accounts?: BrokerAccounts }) {}

  private async atBroker(name: string, change: (accounts: BrokerAccounts) => Promise<void>): Promise<void> {
    try {
      await change(this.deps.accounts ?? noBrokerAccounts);
    } catch (err) {
      throw new DomainError('unavailable', `the MQTT broker did not take the change for integration ${name}: try again`, { cause: err });
    }
  }

  async list(): Promise<IntegrationView[]> {
    return (await listIntegrations(this.deps.db)).map((r) => ({
      name: r.name,
      username: INTEGRATION_USER_PREFIX + r.name,
      createdBy: r.createdBy,
      createdAt: r.createdAt.toISOString(),
    }));
  }

  async create(name: string, who: { actor: string | null; sourceIp?: string }): Promise<IntegrationView & { secret: string }> {
    if (!isValidSensorName(name))
      throw invalid(`integration name ${JSON.stringify(name.slice(0, 80))} is not valid (a-z, 0-9, ".", "_", "-"; 1-63 characters)`);
    const secret = randomBytes(32).toString('base64url');
    const row = await insertIntegration(this.deps.db, { name, secretHash: hashMachineSecret(secret), createdBy: who.actor });
    if (!row) throw conflict(`integration ${name} already exists`);
    try {
      await this.atBroker(name, (accounts) => accounts.setIntegrationSecret(name, secret));
    } catch (err) {
      await deleteIntegration(this.deps.db, name);
      throw err;
    }
    await this.deps.audit.record({ ...who, action: 'integration.create', target: name, outcome: 'ok' });
    return { name, username: INTEGRATION_USER_PREFIX + name, createdBy: row.createdBy, createdAt: row.createdAt.toISOString(), secret };
  }

  async remove(name: string, who: { actor: string | null; sourceIp?: string }): Promise<void> {
    if (!(await deleteIntegration(this.deps.db, name))) throw notFound(`integration ${name}`);
    const prefix = INTEGRATION_USER_PREFIX + name;
    const kicked = this.deps.kick((id) => id === prefix || id.startsWith(`${prefix}:`));
    await this.deps.audit.record({ ...who, action: 'integration.delete', target: name, outcome: 'ok', details: { disconnected: kicked } });
    await this.atBroker(name, (accounts) => accounts.removeIntegration(name));
  }

  /**
   * For the broker: true when `secret` belongs to integration `name` (SHA-256, constant time; a
   * legacy argon2 hash from before is checked within the shared LegacyVerifier budget). Never
   * throws for bad input.
   */
  async verify(name: string, secret: string): Promise<boolean> {
    if (!isValidSensorName(name) || secret.length > 512) return false;
    const stored = await integrationSecretHash(this.deps.db, name);
    if (stored === null) return false;
    if (isSha256Hash(stored)) return matchesSha256(stored, secret);
    return (await sharedLegacyVerifier.verify(stored, secret)) === true;
  }
}
