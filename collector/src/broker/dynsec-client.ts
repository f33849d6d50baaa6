/**
 * A client of Mosquitto's dynamic security plugin (mosquitto_dynamic_security.so): commands are
 * JSON `{ commands: [...] }` published to `$CONTROL/dynamic-security/v1`; the plugin answers each
 * message with `{ responses: [...] }` on `$CONTROL/dynamic-security/v1/response`, one response per
 * command in the same order, each with an `error` string when it failed and `data` when it returns
 * something. (Reference: mosquitto.org/documentation/dynamic-security.)
 *
 * Contract:
 * - `openDynsecClient` connects its own MQTT 5 connection (the collector's account, client id
 *   `{clientId}` — usually the collector's with `-dynsec`), subscribes to the response topic and
 *   sends one probe command. It rejects with DynsecUnavailableError, whose message says what to
 *   configure, when the subscription is refused (the account is not a dynsec admin) or no answer
 *   comes within `timeoutMs` (the plugin is not loaded, or the account may not publish on
 *   `$CONTROL/dynamic-security/#`).
 * - `run(commands)` sends them in messages of at most `batchSize` commands (the plugin saves its
 *   JSON file after every command, so batches bound the time one message holds the broker) and
 *   resolves with every response in order. Messages are sent one at a time; each carries a
 *   correlation id in its first command, so a late answer to an earlier (timed-out) message is
 *   never taken for another's. A message not answered within `timeoutMs`, or whose connection
 *   closed before the answer (mqtt.js then reconnects), rejects the call: run it again.
 * - Commands are published with QoS 0: Mosquitto 2.0.11 drops the connection ("out of memory")
 *   when a `$CONTROL` message arrives with QoS 1.
 * - Passwords in commands are never logged (only command names are).
 */
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

/** One dynamic-security command: `command` is its name, the other fields its arguments. */
export type DynsecCommand = { command: string } & Record<string, unknown>;

export interface DynsecResponse {
  command: string;
  error?: string;
  data?: Record<string, unknown>;
  correlationData?: string;
}

/** The broker has no usable dynamic security plugin for this account; the message says what to configure. */
export class DynsecUnavailableError extends Error {
  override readonly name = 'DynsecUnavailableError';
}

export interface DynsecClientOptions {
  url: string;
  username: string;
  password?: string | undefined;
  clientId: string;
  log: Logger;
  /** How long one message may wait for its answer. Default 30,000 ms (a large fleet's file is slow to save). */
  timeoutMs?: number;
  /** How long the start probe waits. Default 10,000 ms. */
  probeTimeoutMs?: number;
  /** Commands per message. Default 100. */
  batchSize?: number;
}

export interface DynsecClient {
  /** Runs the commands in order; the responses in the same order. `timeoutMs` overrides the client's per message. */
  run(commands: readonly DynsecCommand[], opts?: { timeoutMs?: number }): Promise<DynsecResponse[]>;
  close(): Promise<void>;
}

/** What the operator must set up, for the refusal messages. */
export const DYNSEC_SETUP_HINT =
  'load the plugin in mosquitto.conf (`plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so` and ' +
  '`plugin_opt_config_file /var/lib/mosquitto/dynamic-security.json`), make mqtt.username a dynamic-security admin ' +
  '(`mosquitto_ctrl dynsec init /var/lib/mosquitto/dynamic-security.json <mqtt.username>`), ' +
  'or set mqtt.accounts: manual to manage the sensor accounts at the broker yourself (docs/operations.md "External broker")';

export async function openDynsecClient(options: DynsecClientOptions): Promise<DynsecClient> {
  const log = options.log.child({ component: 'dynsec' });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const batchSize = options.batchSize ?? 100;
  const mqttOptions: IClientOptions = {
    username: options.username,
    password: options.password,
    clientId: options.clientId,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 1_000,
    connectTimeout: options.probeTimeoutMs ?? 10_000,
    // Re-subscribed by hand on reconnect, so that commands wait until answers can arrive.
    resubscribe: false,
  };
  const client = await new Promise<MqttClient>((resolve, reject) => {
    const c = connect(options.url, mqttOptions);
    const fail = (err: Error) => {
      c.end(true);
      reject(new Error(`dynamic security: cannot connect to the MQTT broker as ${options.username}: ${err.message}`, { cause: err }));
    };
    c.once('connect', () => {
      c.off('error', fail);
      resolve(c);
    });
    c.once('error', fail);
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'dynamic security connection error'));

  /** Answers awaited, by the correlation id in the first command of their message. */
  const waiting = new Map<string, { resolve: (responses: DynsecResponse[]) => void; reject: (err: Error) => void }>();
  // An answer to a message sent before the connection dropped never comes: fail those at once.
  // Commands are published only while the response subscription stands (`subscribed`).
  let subscribed: Promise<void> = Promise.resolve();
  let markSubscribed: (() => void) | null = null;
  client.on('close', () => {
    for (const { reject } of waiting.values()) reject(new Error(`the connection to the broker closed before ${DYNSEC_TOPIC} answered`));
    if (!markSubscribed) subscribed = new Promise<void>((resolve) => (markSubscribed = resolve));
  });
  client.on('connect', () => {
    if (!markSubscribed) return; // the first connect: subscribed below
    client.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 0 }).then(
      () => {
        markSubscribed?.();
        markSubscribed = null;
      },
      (err: unknown) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'dynamic security: re-subscription failed'),
    );
  });
  client.on('message', (topic, payload) => {
    if (topic !== DYNSEC_RESPONSE_TOPIC) return;
    let parsed: { responses?: DynsecResponse[] };
    try {
      parsed = JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] };
    } catch {
      log.warn('dynamic security: an answer that is not JSON was ignored');
      return;
    }
    const responses = Array.isArray(parsed.responses) ? parsed.responses : [];
    const id = responses[0]?.correlationData;
    if (id !== undefined) waiting.get(id)?.resolve(responses);
  });

  try {
    const granted = await client.subscribeAsync(DYNSEC_RESPONSE_TOPIC, { qos: 0 });
    if (granted.some((g) => g.qos > 2)) throw new Error('refused');
  } catch (err) {
    client.end(true);
    throw new DynsecUnavailableError(
      `mqtt.accounts is dynamic-security, but the broker refused ${options.username} the subscription to ${DYNSEC_RESPONSE_TOPIC} ` +
        `(the account is not a dynamic-security admin, or the broker has no such plugin): ${DYNSEC_SETUP_HINT}`,
      { cause: err },
    );
  }

  // One message at a time: the plugin answers in order, and a slow save must not pile up messages.
  let queue: Promise<unknown> = Promise.resolve();
  const sendOne = (commands: readonly DynsecCommand[], waitMs: number): Promise<DynsecResponse[]> => {
    const id = randomBytes(8).toString('hex');
    const [first, ...rest] = commands;
    const message = JSON.stringify({ commands: [{ ...first, correlationData: id }, ...rest] });
    return new Promise<DynsecResponse[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`no answer on ${DYNSEC_TOPIC} within ${waitMs} ms to ${commands.map((c) => c.command).join(', ')}`));
      }, waitMs);
      waiting.set(id, {
        resolve: (responses) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(responses);
        },
        reject: (err) => {
          clearTimeout(timer);
          waiting.delete(id);
          reject(err);
        },
      });
      void subscribed
        .then(() => client.publishAsync(DYNSEC_TOPIC, message, { qos: 0 }))
        .catch((err: unknown) => {
          clearTimeout(timer);
          waiting.delete(id);
          reject(new Error(`publish to ${DYNSEC_TOPIC} failed`, { cause: err }));
        });
    });
  };
  const enqueue = (commands: readonly DynsecCommand[], waitMs: number): Promise<DynsecResponse[]> => {
    const next = queue.then(() => sendOne(commands, waitMs));
    queue = next.catch(() => undefined);
    return next;
  };

  try {
    await enqueue([{ command: 'getDefaultACLAccess' }], options.probeTimeoutMs ?? 10_000);
  } catch (err) {
    client.end(true);
    throw new DynsecUnavailableError(
      `mqtt.accounts is dynamic-security, but nothing answered on ${DYNSEC_TOPIC} (${err instanceof Error ? err.message : String(err)}): ${DYNSEC_SETUP_HINT}`,
      { cause: err },
    );
  }
  log.info({ clientId: options.clientId }, 'dynamic security plugin answers');

  return {
    async run(commands, opts) {
      const out: DynsecResponse[] = [];
      for (let i = 0; i < commands.length; i += batchSize) {
        const batch = commands.slice(i, i + batchSize);
        const responses = await enqueue(batch, opts?.timeoutMs ?? timeoutMs);
        if (responses.length !== batch.length) {
          throw new Error(`dynamic security answered ${responses.length} responses to ${batch.length} commands`);
        }
        out.push(...responses);
      }
      return out;
    },
    async close() {
      for (const { reject } of waiting.values()) reject(new Error('dynamic security client closed'));
      await client.endAsync();
    },
  };
}
