/**
 * Access policy of the embedded broker, as aedes hooks (docs/mqtt.md "Access control").
 *
 * - authenticate: username = sensor name, password = its secret, and the MQTT client id must equal
 *   the name, so a sensor can never take over another sensor's session by reusing its client id.
 * - authorizePublish: a sensor publishes only under `sensors/{own name}/` (wire `sensorMayPublish`).
 *   Refusing a publish makes aedes close the connection (MQTT 3.1.1 has no negative PUBACK).
 * - authorizeSubscribe: a sensor subscribes only inside `commands/{own name}/`; `$share/` is refused
 *   explicitly because aedes would treat it as a literal topic and silently deliver nothing.
 *   A refused subscription gets SUBACK 0x80; the connection stays open.
 *
 * Integration accounts (domain/fleet/integrations.service.ts) log in as `integration:<name>` with a
 * client id starting with that username; they may subscribe to `events/` only (wire
 * `integrationMaySubscribe`) and never publish.
 *
 * Failed logins are counted per source address (connect-attempts.ts): an address over the limit
 * (default 10 a minute) is refused with CONNACK 3 (server unavailable) before any secret is
 * checked, so guessing secrets costs the collector nothing beyond the limit.
 *
 * Connects are admitted at a bounded rate (`gate`, connect-attempts.ts ConnectGate): over it, a
 * CONNECT is answered at once with CONNACK 3 (server unavailable) — not counted as a failed login —
 * and the agent retries with jittered backoff, so a reconnect storm never waits into CONNACK
 * timeouts. A sensor secret that verified recently is accepted from `secrets` (secret-cache.ts)
 * without waiting in the database queue behind ingest writes.
 *
 * Retain is allowed only where the protocol uses it (`sensors/{name}/state` and `…/pcap`): a sensor
 * publishing (or willing) a retained message elsewhere is refused like a foreign publish (the
 * connection closes) and counted in `counters.retain`, so retained messages cannot pile up in
 * the broker's memory under arbitrary topics.
 *
 * Every refusal is reported through `onRefused` (counted as 'not-permitted' by the collector) and
 * logged with the sensor name, never with the secret.
 */
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { integrationMaySubscribe, isValidSensorName, parseTopic, sensorMayPublish, sensorMaySubscribe } from '@pcapmesh/shared/wire';
import { ConnectAttempts, type ConnectGate } from './connect-attempts.js';
import type { SecretCache } from './secret-cache.js';
import type { BrokerLimitCounters } from './limits.js';

/** Checks a sensor's secret; false for unknown sensors. Must not throw for bad credentials. */
export type VerifySecret = (name: string, secret: string) => Promise<boolean>;

export type RefusalKind = 'authenticate' | 'publish' | 'subscribe';

export interface SensorPolicyOptions {
  verifySecret: VerifySecret;
  /** Checks an integration account's secret (username `integration:<name>`); absent: none may connect. */
  verifyIntegration?: VerifySecret;
  log: Logger;
  /** Called once per refused connection, publish or subscription. */
  onRefused?: (kind: RefusalKind, sensor: string, detail: string) => void;
  /** Failed logins per source address (default: 10 a minute). */
  attempts?: ConnectAttempts;
  /** Where refused retains are counted. */
  counters?: Pick<BrokerLimitCounters, 'retain'>;
  /** Connect admission (rate and checks in progress); absent: unbounded. */
  gate?: ConnectGate;
  /** Sensor secrets that verified recently; absent: every CONNECT asks verifySecret. */
  secrets?: SecretCache;
}

/** Channels whose messages a sensor may publish retained (the latest birth and availability). */
const RETAINED_CHANNELS: readonly string[] = ['state', 'pcap'];

/** True when a sensor may ask the broker to retain a message on `topic`. */
export function mayRetain(topic: string): boolean {
  const parsed = parseTopic(topic);
  return parsed?.kind === 'sensor' && RETAINED_CHANNELS.includes(parsed.channel);
}

type PolicyHooks = Required<Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'>>;

// aedes' AuthErrorCode is a `const enum`, which isolatedModules cannot inline: the MQTT 3.1.1
// CONNACK return codes (spec 3.2.2.3) are spelled out here.
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

const INTEGRATION_PREFIX = 'integration:';

/** The client's source address ('' when the transport has none). */
function addressOf(client: Client): string {
  return (client.conn as Partial<Socket> | undefined)?.remoteAddress ?? '';
}

export function sensorPolicy({
  verifySecret,
  verifyIntegration,
  log,
  onRefused,
  attempts = new ConnectAttempts(),
  counters,
  gate,
  secrets,
}: SensorPolicyOptions): PolicyHooks {
  /** Clients that authenticated as integration accounts. */
  const integrations = new WeakSet<Client>();
  const refuse = (kind: RefusalKind, sensor: string, detail: string): void => {
    log.warn({ sensor, refused: kind, detail }, `broker refused ${kind}`);
    onRefused?.(kind, sensor, detail);
  };

  const authenticate: PolicyHooks['authenticate'] = (client, username, password, bareDone) => {
    const name = username ?? '';
    const address = addressOf(client);
    if (attempts.blocked(address)) {
      refuse('authenticate', name, `too many failed logins from ${address}`);
      bareDone(authError('too many failed logins from this address', SERVER_UNAVAILABLE), false);
      return;
    }
    if (gate && !gate.admit()) {
      log.debug({ sensor: name, address, pending: gate.pending }, 'CONNECT refused: over the connect rate; the client retries');
      bareDone(authError('server busy: over the connect rate, retry later', SERVER_UNAVAILABLE), false);
      return;
    }
    const done: typeof bareDone = (err, ok) => {
      gate?.settled();
      if (!ok) attempts.failed(address);
      bareDone(err, ok);
    };
    if (name.startsWith(INTEGRATION_PREFIX) && verifyIntegration && password !== undefined) {
      if (client.id !== name && !client.id.startsWith(`${name}:`)) {
        refuse('authenticate', name, 'an integration client id must start with its username');
        done(authError('client id must start with the integration username', IDENTIFIER_REJECTED), false);
        return;
      }
      verifyIntegration(name.slice(INTEGRATION_PREFIX.length), password.toString('utf8')).then(
        (ok) => {
          if (ok) integrations.add(client);
          else refuse('authenticate', name, 'wrong secret or unknown integration');
          done(ok ? null : authError('bad username or password', BAD_USERNAME_OR_PASSWORD), ok);
        },
        (err: unknown) => {
          log.error({ integration: name, err }, 'integration secret verification failed');
          done(authError('credentials cannot be checked now', SERVER_UNAVAILABLE), false);
        },
      );
      return;
    }
    if (!isValidSensorName(name) || password === undefined) {
      refuse('authenticate', name, 'missing or invalid username/password');
      done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
      return;
    }
    if (client.id !== name) {
      refuse('authenticate', name, `client id ${JSON.stringify(client.id)} differs from the sensor name`);
      done(authError('client id must equal the sensor name', IDENTIFIER_REJECTED), false);
      return;
    }
    const secret = password.toString('utf8');
    if (secrets?.matches(name, secret)) {
      done(null, true);
      return;
    }
    verifySecret(name, secret).then(
      (ok) => {
        if (ok) {
          secrets?.remember(name, secret);
          done(null, true);
        } else {
          refuse('authenticate', name, 'wrong secret or unknown sensor');
          done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
        }
      },
      (err: unknown) => {
        log.error({ sensor: name, err }, 'secret verification failed');
        done(authError('credentials cannot be checked now', SERVER_UNAVAILABLE), false);
      },
    );
  };

  const authorizePublish: PolicyHooks['authorizePublish'] = (client, packet, done) => {
    // client null: the collector's own in-process publish (commands, events).
    if (client === null) {
      done(null);
      return;
    }
    if (!integrations.has(client) && sensorMayPublish(client.id, packet.topic)) {
      if (!packet.retain || mayRetain(packet.topic)) {
        done(null);
        return;
      }
      if (counters) counters.retain += 1;
      refuse('publish', client.id, `retain on ${packet.topic} (only state and pcap may be retained)`);
      done(new Error(`sensor ${client.id} may not retain on ${packet.topic}`));
      return;
    }
    refuse('publish', client.id, packet.topic);
    done(new Error(`sensor ${client.id} may not publish to ${packet.topic}`));
  };

  const authorizeSubscribe: PolicyHooks['authorizeSubscribe'] = (client: Client, subscription, done) => {
    const allowed = integrations.has(client) ? integrationMaySubscribe(subscription.topic) : sensorMaySubscribe(client.id, subscription.topic);
    if (!subscription.topic.startsWith('$share/') && allowed) {
      done(null, subscription);
      return;
    }
    refuse('subscribe', client.id, subscription.topic);
    done(null, null);
  };

  return { authenticate, authorizePublish, authorizeSubscribe };
}
