/**
 * The agent's MQTT session with the collector's broker (mqtt.js).
 *
 * On every connect attempt:
 *   1. bdSeq is incremented and persisted; the last will (retained QoS 1 `state` offline,
 *      reason "lost", this bdSeq) is set for the attempt. The will carries the seq its session's
 *      birth will take, without using it up: attempts that never connect leave no holes in the
 *      sequence, so spooled messages stay consecutive (the collector can tell loss from a gap).
 *   2. After CONNACK the agent subscribes to `commands/{name}/#` FIRST, so a task the collector
 *      sends in reaction to the birth cannot be missed,
 *   3. then publishes the retained birth (online, bdSeq, version, location, hostname, interfaces,
 *      capabilities) and waits for its PUBACK,
 *   4. then replays the spool in order with at most `window` messages in flight; each PUBACK
 *      acknowledges its spool record.
 *
 * Session choice: `clean: true`. The spool, not the broker session, is the source of truth for
 * what the agent sends (a persistent session would make mqtt.js re-send its own in-flight copy
 * next to the spool's replay), and the collector re-sends pending tasks when a sensor comes
 * online, so nothing needs to wait in the broker for a disconnected agent.
 *
 * Reconnects use exponential backoff with full jitter (`reconnectDelay`: each delay drawn from
 * [0, cap], the cap 1 s doubling to 30 s), so a fleet that lost its broker at the same instant
 * comes back spread over the cap instead of in waves; a CONNACK may take up to CONNACK_TIMEOUT_MS
 * (30 s: a busy collector answers late rather than never, and a broker over its connect rate
 * answers CONNACK 3 "server unavailable" at once, which counts as a failed attempt). Every attempt
 * is a fresh mqtt.js client, so one session's callbacks can never act on the next. `stop()` publishes the retained state offline with reason "shutdown" (same bdSeq)
 * and disconnects cleanly, so the broker discards the will.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ConfigError } from '@pcapmesh/shared/util/config';
import {
  SCHEMA_VERSION,
  decodeMessage,
  encodeMessage,
  parseTopic,
  topics,
  type Body,
  type CancelCommand,
  type EstimateCommand,
  type Sequencer,
  type TaskCommand,
} from '@pcapmesh/shared/wire';
import type { BdSeqStore } from './bd-seq.js';
import type { Spool } from './spool.js';

/** A decoded command from `commands/{name}/…`. */
export type AgentCommand =
  { kind: 'tasks'; message: TaskCommand } | { kind: 'cancel'; message: CancelCommand } | { kind: 'estimate'; message: EstimateCommand };

export interface ConnectionOptions {
  sensor: string;
  url: string;
  username: string;
  password: string | undefined;
  protocolVersion: 4 | 5;
  keepaliveSeconds: number;
  tls: { caFile?: string | undefined; rejectUnauthorized: boolean; certFile?: string | undefined; keyFile?: string | undefined };
  spool: Spool;
  sequencer: Sequencer;
  bdSeq: BdSeqStore;
  /** What the birth says besides status and bdSeq (asked on every connect: interfaces may change). */
  describe: () => Omit<Body<'state'>, 'status' | 'bdSeq' | 'reason'>;
  logger: Logger;
  /** Most spool records in flight at once (STACK.md pitfall 3). */
  window?: number;
  /** Reconnect backoff (default: 1 s doubling to 30 s, full jitter); tests shorten it. */
  backoff?: Partial<BackoffOptions>;
  /** Called when a reconnect is scheduled, with its attempt number (0 = first) and delay. */
  onRetry?: (info: { attempt: number; delayMs: number }) => void;
  /** Called after each successful connect + birth (for the `ready` line). */
  onOnline?: (info: { bdSeq: number }) => void;
  /** Each valid command (decoded with the wire codec); undecodable ones are counted and logged. */
  onCommand?: (command: AgentCommand) => void;
}

/** The URL without user info, for logs (a password may hide in mqtt://user:pass@host). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export interface BackoffOptions {
  /** Cap of the first delay (ms). */
  baseMs: number;
  /** Largest cap (ms): the cap doubles per failed attempt up to this. */
  maxMs: number;
  /** Uniform in [0, 1) (Math.random; tests pass a fixed sequence). */
  random: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 30_000, random: Math.random };

/**
 * The delay before reconnect attempt `attempt` (0 = the first after a loss): "full jitter", a
 * uniform draw from [0, min(maxMs, baseMs·2^attempt)], rounded to whole ms. Never negative, never
 * over the cap; `attempt` below 0 or not an integer is a programming error (RangeError).
 */
export function reconnectDelay(attempt: number, { baseMs, maxMs, random }: BackoffOptions = DEFAULT_BACKOFF): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`reconnectDelay: attempt must be an integer ≥ 0, got ${attempt}`);
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.min(cap, Math.floor(random() * (cap + 1)));
}

/** How long an attempt waits for CONNACK before it counts as failed. */
export const CONNACK_TIMEOUT_MS = 30_000;
/**
 * How long the birth may wait for its PUBACK before the session is dropped and retried. The
 * collector acknowledges only after storing it, and a collector taking back a whole fleet stores
 * slowly: a short wait would make every agent reconnect and send its birth again, adding to the
 * queue it waits in.
 */
export const BIRTH_ACK_TIMEOUT_MS = 30_000;
/** The shutdown state's wait (stop() should not hang on a broker that went away). */
const ACK_TIMEOUT_MS = 5_000;

interface Session {
  client: MqttClient;
  bdSeq: number;
  inflight: number;
  online: boolean;
}

export class MqttConnection {
  private session: Session | null = null;
  private attempts = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private lastError = '';
  private readonly ca: Buffer | undefined;
  private readonly clientCert: { cert: Buffer; key: Buffer } | undefined;
  /** Counters for health and tests. */
  readonly counters = { connects: 0, published: 0, acked: 0, commandsReceived: 0, commandsRejected: 0 };

  constructor(private readonly opts: ConnectionOptions) {
    const { caFile, certFile, keyFile } = opts.tls;
    this.ca = caFile ? readTlsFile(caFile, 'mqtt.tls.caFile') : undefined;
    this.clientCert = certFile && keyFile ? readClientCert(certFile, keyFile) : undefined;
  }

  get online(): boolean {
    return this.session?.online ?? false;
  }

  start(): void {
    this.connect();
  }

  /** New records are in the spool: publish what the window allows. */
  notify(): void {
    this.pump();
  }

  /** Clean shutdown: retained offline "shutdown" state (same bdSeq), then DISCONNECT. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const s = this.session;
    if (!s) return;
    // Connected (even if the birth is still on its way): say "shutdown" rather than leave the will.
    if (s.client.connected) {
      try {
        await this.publishState(s, 'offline', 'shutdown');
      } catch (err) {
        this.opts.logger.warn({ err }, 'could not publish the shutdown state; the broker will send the last will');
      }
      await s.client.endAsync().catch(() => undefined);
    } else {
      await s.client.endAsync(true).catch(() => undefined);
    }
    this.session = null;
  }

  private connect(): void {
    const { sensor, logger } = this.opts;
    const bdSeq = this.opts.bdSeq.next();
    const will = this.willMessage(bdSeq);
    const options: IClientOptions = {
      clientId: sensor,
      username: this.opts.username,
      password: this.opts.password,
      protocolVersion: this.opts.protocolVersion,
      keepalive: this.opts.keepaliveSeconds,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: CONNACK_TIMEOUT_MS,
      will: { topic: topics.sensor(sensor, 'state'), payload: Buffer.from(will), qos: 1, retain: true },
      rejectUnauthorized: this.opts.tls.rejectUnauthorized,
      ...(this.ca ? { ca: this.ca } : {}),
      ...(this.clientCert ?? {}),
    };
    const client = mqtt.connect(this.opts.url, options);
    const session: Session = { client, bdSeq, inflight: 0, online: false };
    this.session = session;
    logger.debug({ url: redactUrl(this.opts.url), bdSeq }, 'mqtt: connecting');

    client.on('connect', () => {
      this.onConnect(session).catch((err: unknown) => {
        logger.warn({ err }, 'mqtt: session setup failed; reconnecting');
        client.end(true);
      });
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => {
      const text = err.message;
      if (text !== this.lastError) logger.warn({ err: text, url: redactUrl(this.opts.url) }, 'mqtt: connection error');
      this.lastError = text;
    });
    client.on('close', () => this.onClose(session));
  }

  private async onConnect(s: Session): Promise<void> {
    const { logger, sensor } = this.opts;
    this.counters.connects++;
    // One topic per SUBSCRIBE (STACK.md pitfall 2): a refusal must not hide behind a batch.
    // A refused subscription must not keep the sensor offline: report it and carry on.
    const filter = topics.filters.sensorCommands(sensor);
    try {
      const grants = await s.client.subscribeAsync(filter, { qos: 1 });
      if (grants.some((g) => g.qos === 128)) logger.error({ filter }, 'mqtt: command subscription refused by the broker');
    } catch (err) {
      logger.error({ filter, err: (err as Error).message }, 'mqtt: command subscription failed');
    }
    if (this.session !== s) return;
    await this.publishState(s, 'online');
    if (this.session !== s) return;
    s.online = true;
    this.attempts = 0;
    this.lastError = '';
    logger.info({ bdSeq: s.bdSeq, pending: this.opts.spool.stats.pending }, 'mqtt: online');
    this.opts.onOnline?.({ bdSeq: s.bdSeq });
    this.pump();
  }

  private onClose(s: Session): void {
    if (this.session !== s) return;
    const wasOnline = s.online;
    s.online = false;
    s.client.removeAllListeners();
    s.client.on('error', () => undefined);
    s.client.end(true);
    this.opts.spool.rewind();
    if (this.stopping) return;
    if (wasOnline) this.opts.logger.warn({ bdSeq: s.bdSeq }, 'mqtt: connection lost; spooling');
    const attempt = this.attempts++;
    const delay = reconnectDelay(attempt, { ...DEFAULT_BACKOFF, ...this.opts.backoff });
    this.opts.onRetry?.({ attempt, delayMs: delay });
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopping) this.connect();
    }, delay);
  }

  /** Publishes due spool records while the window has room. */
  private pump(): void {
    const s = this.session;
    const window = this.opts.window ?? 500;
    if (!s?.online) return;
    while (s.inflight < window) {
      const rec = this.opts.spool.takeNext();
      if (!rec) return;
      s.inflight++;
      this.counters.published++;
      s.client.publish(rec.topic, Buffer.from(rec.payload), { qos: 1, retain: rec.retain }, (err) => {
        if (this.session !== s) return;
        s.inflight--;
        if (err) return; // the connection is going down; the record is replayed after reconnect
        this.counters.acked++;
        this.opts.spool.ack(rec.id);
        this.pump();
      });
    }
  }

  private stateMessage(bdSeq: number, status: 'online' | 'offline', reason?: string): Uint8Array {
    const body: Body<'state'> = status === 'online' ? { ...this.opts.describe(), status, bdSeq } : { status, bdSeq, ...(reason ? { reason } : {}) };
    const message = this.opts.sequencer.stamp('state', body);
    this.opts.spool.noteSeq(message.seq);
    return encodeMessage('state', message);
  }

  /** The session's last will: stamped with the next seq, which only the birth then uses up. */
  private willMessage(bdSeq: number): Uint8Array {
    const { sequencer } = this.opts;
    return encodeMessage('state', { v: SCHEMA_VERSION, sentAt: Date.now(), seq: sequencer.next, status: 'offline', bdSeq, reason: 'lost' });
  }

  private async publishState(s: Session, status: 'online' | 'offline', reason?: string): Promise<void> {
    const payload = Buffer.from(this.stateMessage(s.bdSeq, status, reason));
    const topic = topics.sensor(this.opts.sensor, 'state');
    const waitMs = status === 'online' ? BIRTH_ACK_TIMEOUT_MS : ACK_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no PUBACK for the ${status} state within ${waitMs} ms`)), waitMs);
    });
    try {
      await Promise.race([s.client.publishAsync(topic, payload, { qos: 1, retain: true }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Commands: decoded with the wire codec and handed to `onCommand` (the task runner). */
  private onMessage(topic: string, payload: Buffer): void {
    const { logger, sensor } = this.opts;
    this.counters.commandsReceived++;
    const parsed = parseTopic(topic);
    if (parsed?.kind !== 'command' || parsed.sensor !== sensor) {
      this.counters.commandsRejected++;
      logger.warn({ topic }, 'mqtt: message on a topic that is not one of our commands');
      return;
    }
    const command = decodeCommand(parsed.command, payload);
    if ('reason' in command) {
      this.counters.commandsRejected++;
      logger.warn({ topic, reason: command.reason, detail: command.detail }, 'mqtt: undecodable command');
      return;
    }
    const id = command.kind === 'estimate' ? { request: command.message.requestId } : { task: command.message.taskId };
    logger.debug({ command: command.kind, ...id, seq: command.message.seq }, 'mqtt: command received');
    try {
      this.opts.onCommand?.(command);
    } catch (err) {
      logger.error({ err, command: command.kind, ...id }, 'mqtt: command handler failed');
    }
  }
}

function decodeCommand(command: AgentCommand['kind'], payload: Uint8Array): AgentCommand | { reason: string; detail: string } {
  if (command === 'tasks') {
    const r = decodeMessage('task', payload);
    return r.ok ? { kind: 'tasks', message: r.message } : r;
  }
  if (command === 'cancel') {
    const r = decodeMessage('cancel', payload);
    return r.ok ? { kind: 'cancel', message: r.message } : r;
  }
  const r = decodeMessage('estimate-command', payload);
  return r.ok ? { kind: 'estimate', message: r.message } : r;
}

/** A file named by `key`, or a ConfigError naming the key and why it cannot be read. */
function readTlsFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError([`${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`], 'certificate files');
  }
}

/** The client certificate and key (mqtt.tls.certFile/keyFile), checked to belong together. */
function readClientCert(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const cert = readTlsFile(certFile, 'mqtt.tls.certFile');
  const key = readTlsFile(keyFile, 'mqtt.tls.keyFile');
  let matches: boolean;
  try {
    matches = new X509Certificate(cert).checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw new ConfigError([`mqtt.tls.certFile: ${certFile} or ${keyFile} is not PEM (${(err as Error).message})`], 'certificate files');
  }
  if (!matches) throw new ConfigError([`mqtt.tls.keyFile: ${keyFile} does not match the certificate in mqtt.tls.certFile (${certFile})`], 'certificate files');
  return { cert, key };
}
