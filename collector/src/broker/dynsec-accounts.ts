/**
 * Sensor and integration accounts kept at a Mosquitto with dynamic security (`mqtt.accounts:
 * dynamic-security`), through a DynsecClient. Roles and ACLs: dynsec-acl.ts.
 *
 * Contract:
 * - `setSensorSecret` / `setIntegrationSecret` create the role and the client when missing and set
 *   the password; Mosquitto disconnects a client whose password changed. `removeSensor` /
 *   `removeIntegration` delete the client (Mosquitto disconnects its session, reason 0x98
 *   "administrative action") and its role; absent ones are no error. Any other refusal by the
 *   plugin rejects with an Error naming the command, the account and the plugin's answer.
 * - `ensureCollectorRole` gives the collector's own account the role `pcapmesh-collector` with the
 *   ACLs it needs (shared subscription, commands, events), adding only what is missing. Mosquitto
 *   disconnects every client of an account whose roles change — the collector's own connections
 *   included — so this runs before the collector subscribes, and is verified again after the
 *   reconnect. Nothing is sent when the account already has what it needs.
 * - `reconcile(load)` makes the broker match the database: every sensor not revoked has its client
 *   (client id = name) and its role with exactly its ACLs; every integration likewise; revoked
 *   sensors, and marked clients with no row, are deleted. Idempotent; commands go in bounded
 *   batches (DynsecClient). A client created here has no password (the database keeps only a hash
 *   of the secret): it cannot log in until the sensor is rotated or enrolled again, and is reported
 *   in `withoutPassword`. Deletions are computed from a second `load()` taken after the creations,
 *   so a sensor enrolled meanwhile by another collector is not deleted.
 */
import type { Logger } from 'pino';
import type { BrokerAccounts } from '../domain/fleet/broker-accounts.js';
import {
  COLLECTOR_ROLE,
  INTEGRATION_MARK,
  INTEGRATION_USER_PREFIX,
  SENSOR_MARK,
  collectorAcls,
  hasAcls,
  integrationAcls,
  integrationRole,
  sameAcls,
  sensorAcls,
  sensorRole,
  type Acl,
} from './dynsec-acl.js';
import type { DynsecClient, DynsecCommand, DynsecResponse } from './dynsec-client.js';

/** What the database says should exist. */
export interface DesiredAccounts {
  sensors: { name: string; revoked: boolean }[];
  integrations: string[];
}

export interface ReconcileSummary {
  created: number;
  updated: number;
  deleted: number;
  /** Sensors and integrations whose account was created without a password (rotate or enrol them again). */
  withoutPassword: string[];
}

interface BrokerClient {
  username: string;
  clientid?: string;
  textname?: string;
  roles?: { rolename: string }[];
}

interface BrokerRole {
  rolename: string;
  acls?: Partial<Acl>[];
}

/** Errors that mean "already as wanted". */
const HARMLESS = new Set(['Client already exists', 'Role already exists', 'Client not found', 'Role not found']);
const PAGE = 1_000;

/** The account a desired entry maps to. */
interface AccountSpec {
  username: string;
  clientid: string | undefined;
  mark: string;
  role: string;
  acls: Acl[];
}

const sensorSpec = (name: string): AccountSpec => ({ username: name, clientid: name, mark: SENSOR_MARK, role: sensorRole(name), acls: sensorAcls(name) });
const integrationSpec = (name: string): AccountSpec => ({
  username: INTEGRATION_USER_PREFIX + name,
  clientid: undefined,
  mark: INTEGRATION_MARK,
  role: integrationRole(name),
  acls: integrationAcls(),
});

export class DynsecAccounts implements BrokerAccounts {
  readonly managed = true;

  constructor(
    private readonly client: DynsecClient,
    private readonly log: Logger,
    /** The collector's own username: never deleted or changed by reconcile. */
    private readonly self: string,
  ) {}

  setSensorSecret(name: string, secret: string): Promise<void> {
    return this.setSecret(sensorSpec(name), secret);
  }

  removeSensor(name: string): Promise<void> {
    return this.remove(sensorSpec(name));
  }

  setIntegrationSecret(name: string, secret: string): Promise<void> {
    return this.setSecret(integrationSpec(name), secret);
  }

  removeIntegration(name: string): Promise<void> {
    return this.remove(integrationSpec(name));
  }

  private async setSecret(spec: AccountSpec, password: string): Promise<void> {
    const created = await this.client.run([
      { command: 'createRole', rolename: spec.role, acls: spec.acls },
      { command: 'createClient', ...clientFields(spec), password },
    ]);
    checked(created, spec.username);
    if (created[1]?.error === 'Client already exists') {
      // modifyClient sets the password and puts the id, mark and role back as they should be.
      checked(await this.client.run([{ command: 'modifyClient', ...clientFields(spec), password }]), spec.username);
    }
    this.log.info({ account: spec.username }, 'broker account password set');
  }

  private async remove(spec: AccountSpec): Promise<void> {
    if (spec.username === this.self) throw new Error(`the collector's own account ${spec.username} is not deleted`);
    checked(
      await this.client.run([
        { command: 'deleteClient', username: spec.username },
        { command: 'deleteRole', rolename: spec.role },
      ]),
      spec.username,
    );
    this.log.info({ account: spec.username }, 'broker account deleted');
  }

  /** See the contract. Resolves once the account has the role (possibly after being reconnected). */
  async ensureCollectorRole(sharedGroup: string): Promise<void> {
    const want = collectorAcls(sharedGroup);
    for (let attempt = 1; ; attempt++) {
      const [role, client] = await this.client.run([
        { command: 'getRole', rolename: COLLECTOR_ROLE },
        { command: 'getClient', username: this.self },
      ]);
      const have = (role?.data?.role as BrokerRole | undefined)?.acls;
      const self = client?.data?.client as BrokerClient | undefined;
      if (!self) throw new Error(`dynamic security has no client ${this.self} (mqtt.username): ${client?.error ?? 'no answer'}`);
      const hasRole = (self.roles ?? []).some((r) => r.rolename === COLLECTOR_ROLE);
      if (role?.data && hasAcls(have, want) && hasRole) return;
      if (attempt > 3) throw new Error(`the role ${COLLECTOR_ROLE} of ${this.self} could not be set up at the broker`);
      const commands: DynsecCommand[] = role?.data
        ? want.filter((a) => !hasAcls(have, [a])).map((a) => ({ command: 'addRoleACL', rolename: COLLECTOR_ROLE, ...a }))
        : [{ command: 'createRole', rolename: COLLECTOR_ROLE, textname: 'pcapmesh collectors', acls: want }];
      if (!hasRole) commands.push({ command: 'addClientRole', username: this.self, rolename: COLLECTOR_ROLE, priority: 0 });
      this.log.info({ role: COLLECTOR_ROLE, account: this.self, commands: commands.map((c) => c.command) }, 'setting up the collector role at the broker');
      // The broker disconnects this account's clients on a role change, this one included: the
      // answer may be lost, so the result is read again (above) after the reconnect.
      await this.client.run(commands, { timeoutMs: 5_000 }).catch((err: unknown) => {
        this.log.info({ err: err instanceof Error ? err.message : String(err) }, 'collector role change sent; checking it after the reconnect');
      });
    }
  }

  /** See the contract. */
  async reconcile(load: () => Promise<DesiredAccounts>): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { created: 0, updated: 0, deleted: 0, withoutPassword: [] };
    const [clients, roles] = await Promise.all([this.listAll<BrokerClient>('listClients', 'clients'), this.listAll<BrokerRole>('listRoles', 'roles')]);
    const clientBy = new Map(clients.map((c) => [c.username, c]));
    const roleBy = new Map(roles.map((r) => [r.rolename, r]));

    const first = await load();
    const wanted = [
      ...first.sensors.filter((s) => !s.revoked).map((s) => ({ spec: sensorSpec(s.name), name: s.name })),
      ...first.integrations.map((name) => ({ spec: integrationSpec(name), name: INTEGRATION_USER_PREFIX + name })),
    ].filter(({ spec }) => spec.username !== this.self);
    const upserts: DynsecCommand[] = [];
    for (const { spec, name } of wanted) {
      const role = roleBy.get(spec.role);
      const roleOk = role !== undefined && sameAcls(role.acls, spec.acls);
      if (role && !roleOk) upserts.push({ command: 'deleteRole', rolename: spec.role });
      if (!roleOk) upserts.push({ command: 'createRole', rolename: spec.role, acls: spec.acls });
      const have = clientBy.get(spec.username);
      if (!have) {
        upserts.push({ command: 'createClient', ...clientFields(spec) });
        summary.created += 1;
        summary.withoutPassword.push(name);
      } else if (!roleOk || !clientMatches(have, spec)) {
        upserts.push({ command: 'modifyClient', ...clientFields(spec) });
        summary.updated += 1;
      }
    }
    if (upserts.length > 0) checked(await this.client.run(upserts), 'reconcile');

    // Deletions from a fresh look at the database (see the contract).
    const second = await load();
    const keep = new Set([
      this.self,
      ...second.sensors.filter((s) => !s.revoked).map((s) => s.name),
      ...second.integrations.map((n) => INTEGRATION_USER_PREFIX + n),
    ]);
    const revoked = new Set(second.sensors.filter((s) => s.revoked).map((s) => s.name));
    const deletions: DynsecCommand[] = [];
    for (const c of clients) {
      const ours = c.textname === SENSOR_MARK || c.textname === INTEGRATION_MARK || revoked.has(c.username);
      if (ours && !keep.has(c.username)) {
        deletions.push({ command: 'deleteClient', username: c.username });
        summary.deleted += 1;
      }
    }
    const keepRoles = new Set(
      [...keep].flatMap((u) => (u.startsWith(INTEGRATION_USER_PREFIX) ? [integrationRole(u.slice(INTEGRATION_USER_PREFIX.length))] : [sensorRole(u)])),
    );
    for (const r of roles) {
      const managed = r.rolename.startsWith(sensorRole('')) || r.rolename.startsWith(integrationRole(''));
      if (managed && !keepRoles.has(r.rolename)) deletions.push({ command: 'deleteRole', rolename: r.rolename });
    }
    if (deletions.length > 0) checked(await this.client.run(deletions), 'reconcile');
    return summary;
  }

  /** Every client or role, verbose, a page at a time. */
  private async listAll<T>(command: 'listClients' | 'listRoles', key: 'clients' | 'roles'): Promise<T[]> {
    const out: T[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const [response] = await this.client.run([{ command, verbose: true, count: PAGE, offset }]);
      if (!response?.data) throw new Error(`dynamic security ${command}: ${response?.error ?? 'no data'}`);
      const page = (response.data[key] as T[] | undefined) ?? [];
      out.push(...page);
      const total = Number(response.data.totalCount ?? 0);
      if (page.length < PAGE || out.length >= total) return out;
    }
  }
}

/** The client fields an account should have (no password). */
function clientFields(spec: AccountSpec): Record<string, unknown> {
  return {
    username: spec.username,
    ...(spec.clientid === undefined ? {} : { clientid: spec.clientid }),
    textname: spec.mark,
    roles: [{ rolename: spec.role, priority: 0 }],
  };
}

function clientMatches(have: BrokerClient, spec: AccountSpec): boolean {
  const roles = have.roles ?? [];
  return (have.clientid ?? undefined) === spec.clientid && have.textname === spec.mark && roles.length === 1 && roles[0]!.rolename === spec.role;
}

/** Throws on the first response with an error other than "already there" / "already gone". */
function checked(responses: DynsecResponse[], what: string): void {
  const failed = responses.find((r) => r.error !== undefined && !HARMLESS.has(r.error));
  if (failed) throw new Error(`dynamic security refused ${failed.command} for ${what}: ${failed.error}`);
}
