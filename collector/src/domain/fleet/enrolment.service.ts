/**
 * Sensor enrolment and secret lifecycle (replaces printing secrets):
 *
 * - `createSensor` registers a sensor (its initial secret is discarded unseen) and returns its API
 *   view and a one-time enrolment token with an expiry;
 * - `enroll(token)` — the agent's `pcapmesh-agent enroll` — claims the token (single use; of two
 *   concurrent uses exactly one succeeds) and returns a fresh secret for the sensor;
 * - `rotate` gives the sensor a new secret; `revoke` replaces it with one nobody knows and marks the
 *   sensor revoked (ingest then refuses its messages, also through an external broker). Both void
 *   unused enrolment tokens and disconnect the sensor from the embedded broker at once. A broker
 *   that keeps its own accounts (`accounts`, broker-accounts.ts: Mosquitto with dynamic security)
 *   is told too: `enroll` and `rotate` set the new secret there (creating the account), `revoke`
 *   deletes the account, and the broker disconnects the sensor's session itself. When the broker
 *   does not take the change, the call fails with `unavailable` saying what the database already
 *   holds: rotate again (also after a failed enrolment: its token is used), revoke again.
 *
 * Enrolment tokens are `pme_` + 32 random bytes; only their SHA-256 is stored. Every step is audited
 * except a failed `enroll`: with a `throttle` (the login throttle), failed redemptions are counted
 * per source address like failed logins — an address over the limit gets ThrottledError (429 +
 * Retry-After) before any lookup, and only the lockout is audited (`sensor.enroll` denied, details
 * `lockedOut`), so guessing cannot fill the audit log one row per guess.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from '../../log.js';
import type { Db } from '../../storage/db.js';
import { claimEnrolmentToken, insertEnrolmentToken, voidEnrolmentTokens } from '../../storage/enrolment.repo.js';
import type { AuditService } from '../accounts/audit.service.js';
import type { LoginAttempt, LoginThrottle } from '../accounts/login-throttle.js';
import { DomainError, invalid, notFound } from '../errors.js';
import { noBrokerAccounts, type BrokerAccounts } from './broker-accounts.js';
import type { SensorService } from '../sensors/sensors.service.js';
import { toSensorApiView } from '../sensors/sensor-views.js';
import type { SensorApiView } from '../sensors/sensors.types.js';

/** Disconnects the broker clients whose id matches; returns how many. */
export type KickClients = (match: (clientId: string) => boolean) => number;

export interface EnrolmentToken {
  token: string;
  expiresAt: string;
}

const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');

export class EnrolmentService {
  private readonly now: () => Date;

  constructor(
    private readonly deps: {
      db: Db;
      sensors: Pick<SensorService, 'register' | 'rotateSecret' | 'revokeSecret' | 'get'>;
      audit: AuditService;
      kick: KickClients;
      /** Accounts at a broker that keeps its own; absent: none (the embedded broker asks the database). */
      accounts?: BrokerAccounts;
      log: Logger;
      now?: () => Date;
      /** Counts failed redemptions per address (see the contract); absent: unthrottled, unaudited failures. */
      throttle?: Pick<LoginThrottle, 'admit' | 'failed' | 'exclusive'>;
    },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  async createSensor(
    input: { name: string; location?: string | undefined; expiresInHours: number },
    who: { actor: string | null; sourceIp?: string },
  ): Promise<{ sensor: SensorApiView; enrolment: EnrolmentToken }> {
    const { sensor } = await this.deps.sensors.register(input.location === undefined ? { name: input.name } : { name: input.name, location: input.location });
    const enrolment = await this.issueToken(sensor.name, input.expiresInHours, who.actor);
    await this.deps.audit.record({ ...who, action: 'sensor.create', target: sensor.name, outcome: 'ok', details: { enrolmentExpiresAt: enrolment.expiresAt } });
    return { sensor: toSensorApiView(sensor), enrolment };
  }

  async issueToken(sensor: string, expiresInHours: number, createdBy: string | null): Promise<EnrolmentToken> {
    if (!Number.isInteger(expiresInHours) || expiresInHours < 1 || expiresInHours > 720) throw invalid('expiresInHours must be a whole number from 1 to 720');
    const token = `pme_${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(this.now().getTime() + expiresInHours * 3_600_000);
    if (!(await insertEnrolmentToken(this.deps.db, { sensor, tokenHash: sha256(token), expiresAt, createdBy }))) throw notFound(`sensor ${sensor}`);
    return { token, expiresAt: expiresAt.toISOString() };
  }

  /** Exchanges a one-time token for the sensor's new secret. unauthenticated when unknown, used or expired. */
  async enroll(token: string, sourceIp: string): Promise<{ sensor: string; secret: string }> {
    const { throttle } = this.deps;
    // The throttle's 'user' scope is the address too: one address cannot lock enrolment out for all.
    const attempt: LoginAttempt = { username: `enrolment@${sourceIp}`, address: sourceIp, known: [] };
    const claim = async (): Promise<string | null> => {
      await throttle?.admit(attempt);
      return token.length <= 128 ? await claimEnrolmentToken(this.deps.db, sha256(token), this.now()) : null;
    };
    const sensor = throttle ? await throttle.exclusive(attempt, claim) : await claim();
    if (sensor === null) {
      const lockedOut = (await throttle?.failed(attempt)) ?? [];
      if (lockedOut.length > 0) {
        this.deps.log.warn({ sourceIp, lockedOut }, 'enrolment: too many failed redemptions; source locked out');
        await this.deps.audit.record({ actor: null, action: 'sensor.enroll', outcome: 'denied', sourceIp, details: { lockedOut } });
      }
      throw new DomainError('unauthenticated', 'enrolment token unknown, already used or expired; ask an admin for a new one');
    }
    const secret = await this.deps.sensors.rotateSecret(sensor);
    this.deps.kick((id) => id === sensor);
    await this.deps.audit.record({ actor: `sensor:${sensor}`, action: 'sensor.enroll', target: sensor, outcome: 'ok', sourceIp });
    await this.atBroker(sensor, 'the enrolment stored the new secret, but', () => this.accounts.setSensorSecret(sensor, secret));
    this.deps.log.info({ sensor }, 'sensor enrolled');
    return { sensor, secret };
  }

  /** A new secret; the old one stops working and a connected sensor is disconnected at once. */
  async rotate(sensor: string, who: { actor: string | null; sourceIp?: string }): Promise<string> {
    const secret = await this.deps.sensors.rotateSecret(sensor);
    await voidEnrolmentTokens(this.deps.db, sensor, this.now());
    const kicked = this.deps.kick((id) => id === sensor);
    await this.deps.audit.record({ ...who, action: 'sensor.rotate', target: sensor, outcome: 'ok', details: { disconnected: kicked } });
    await this.atBroker(sensor, 'the new secret is stored, but', () => this.accounts.setSensorSecret(sensor, secret));
    return secret;
  }

  private get accounts(): BrokerAccounts {
    return this.deps.accounts ?? noBrokerAccounts;
  }

  /** Runs a change at the broker; its failure becomes `unavailable` saying what was already done. */
  private async atBroker(sensor: string, done: string, change: () => Promise<void>): Promise<void> {
    try {
      await change();
    } catch (err) {
      this.deps.log.error({ sensor, err: err instanceof Error ? err.message : String(err) }, 'the MQTT broker did not take an account change');
      throw new DomainError('unavailable', `${done} the MQTT broker did not take the change for sensor ${sensor}: try again (rotate or revoke it)`, {
        cause: err,
      });
    }
  }

  /** No secret works any more (until rotate or a new enrolment); disconnected at once. */
  async revoke(sensor: string, who: { actor: string | null; sourceIp?: string }): Promise<void> {
    await this.deps.sensors.revokeSecret(sensor); // also marked revoked: ingest refuses its messages (external broker)
    await voidEnrolmentTokens(this.deps.db, sensor, this.now());
    const kicked = this.deps.kick((id) => id === sensor);
    await this.deps.audit.record({ ...who, action: 'sensor.revoke', target: sensor, outcome: 'ok', details: { disconnected: kicked } });
    await this.atBroker(sensor, 'the sensor is revoked (its messages are refused), but', () => this.accounts.removeSensor(sensor));
    this.deps.log.info({ sensor, disconnected: kicked }, 'sensor secret revoked');
  }
}
