/**
 * A sensor publisher with an agent's delivery rules and exact bookkeeping, for the loss tests:
 * health reports with seq 1, 2, 3… at a fixed rate, each kept in a local queue until the broker's
 * PUBACK (QoS 1), every unacknowledged one sent again, in order, after each reconnect (clean
 * session, backoff 0.5–2 s), at most `window` (500) in flight at once — what the agent's spool
 * does (agent/src/mqtt/connection.ts), with
 * the sequence numbers of every report produced known exactly, so "stored" can be compared with
 * "produced" seq by seq. Real credentials, a real MQTT connection, real CBOR health messages.
 */
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, SCHEMA_VERSION, topics } from '@pcapmesh/shared/wire';
import { Agent, eventually, healthBody, type Collector, type TestScope } from '../../integration/harness.js';
import { enrolSensors } from './world.js';

export interface PublisherStats {
  produced: number;
  acked: number;
  pending: number;
  connects: number;
  disconnects: number;
}

/** Most reports in flight at once: the agent's default window (agent/src/mqtt/connection.ts). */
export const PUBLISHER_WINDOW = 500;

export class SpoolingPublisher {
  private readonly queue: { seq: number; payload: Buffer }[] = [];
  /** The next seq to send on the current connection (0 after a reconnect: everything again). */
  private cursor = 0;
  private inflight = 0;
  private nextSeq = 1;
  private acked = 0;
  private connects = 0;
  private disconnects = 0;
  private client: MqttClient | null = null;
  private producer: NodeJS.Timeout | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    readonly sensor: string,
    private readonly secret: string,
    private readonly url: string,
    private readonly everyMs = 200,
    private readonly window = PUBLISHER_WINDOW,
  ) {}

  start(): void {
    this.producer = setInterval(() => this.produce(), this.everyMs);
    this.connect();
  }

  /** Stops producing; the queue keeps draining while connected. */
  stopProducing(): void {
    if (this.producer) clearInterval(this.producer);
    this.producer = null;
  }

  get stats(): PublisherStats {
    return { produced: this.nextSeq - 1, acked: this.acked, pending: this.queue.length, connects: this.connects, disconnects: this.disconnects };
  }

  /** Every seq produced so far. */
  producedSeqs(): number[] {
    return Array.from({ length: this.nextSeq - 1 }, (_, i) => i + 1);
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.stopProducing();
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    if (c?.connected) {
      // endAsync() waits for the messages in flight and never settles when the broker drops the
      // connection meanwhile (suspected in a long broker-outage run that hung after the end): 10 s, then forced.
      await Promise.race([c.endAsync().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    }
    c?.end(true);
  }

  private produce(): void {
    const seq = this.nextSeq++;
    const payload = Buffer.from(encodeMessage('health', { ...healthBody(seq % 100), v: SCHEMA_VERSION, sentAt: Date.now(), seq }));
    this.queue.push({ seq, payload });
    this.pump();
  }

  /** Sends queued reports not yet sent on this connection, in order, while the window has room. */
  private pump(): void {
    const c = this.client;
    if (!c?.connected) return;
    let i = this.queue.findIndex((q) => q.seq >= this.cursor);
    while (i >= 0 && i < this.queue.length && this.inflight < this.window) {
      const item = this.queue[i++]!;
      this.cursor = item.seq + 1;
      this.inflight += 1;
      c.publish(topics.sensor(this.sensor, 'health'), item.payload, { qos: 1 }, (err) => {
        if (err || this.client !== c) return; // resent after the reconnect
        this.inflight -= 1;
        const k = this.queue.findIndex((q) => q.seq === item.seq);
        if (k >= 0) {
          this.queue.splice(k, 1);
          this.acked += 1;
        }
        this.pump();
      });
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const c = mqtt.connect(this.url, {
      username: this.sensor,
      password: this.secret,
      clientId: this.sensor,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 10,
    });
    this.client = c;
    c.on('error', () => undefined);
    c.once('connect', () => {
      this.connects += 1;
      this.cursor = 0;
      this.inflight = 0;
      this.pump();
    });
    c.once('close', () => {
      if (this.client !== c) return;
      this.disconnects += 1;
      this.client = null;
      c.end(true);
      if (!this.stopped) this.retry = setTimeout(() => this.connect(), 500 + Math.random() * 1500);
    });
  }
}

/** Health report numbers stored for one sensor (duplicates kept, so a report stored twice shows). */
export const STORED_HEALTH_SEQS_SQL = 'SELECT h.seq FROM health_samples h JOIN sensors s ON s.id = h.sensor_id WHERE s.name = $1 ORDER BY h.seq';

/** Asserts that every report each publisher produced was stored exactly once; `storedSeqs` reads one sensor's. */
export async function assertStoredOnce(publishers: SpoolingPublisher[], storedSeqs: (sensor: string) => Promise<number[]>): Promise<void> {
  for (const p of publishers) {
    const stored = await storedSeqs(p.sensor);
    const set = new Set(stored);
    assert.deepEqual(
      p.producedSeqs().filter((s) => !set.has(s)),
      [],
      `${p.sensor}: reports produced but not stored`,
    );
    assert.equal(stored.length - set.size, 0, `${p.sensor}: reports stored twice`);
  }
}

/**
 * The outage tests' world on a started collector: `sensors` enrolled as spooling publishers (closed
 * at cleanup: one left running keeps reconnecting and the test process never exits) and a real agent
 * `agent-1` beside them; resolves once the agent is online and each publisher has 10 reports stored.
 */
export async function startPublishers(
  scope: TestScope,
  collector: Collector,
  sensors: readonly string[],
): Promise<{ agent: Agent; publishers: SpoolingPublisher[] }> {
  const secrets = await enrolSensors(collector, [...sensors, 'agent-1']);
  const agent = new Agent(scope, { name: 'agent-1', secret: secrets.get('agent-1')!, mqttUrl: collector.mqttUrl, healthSeconds: 1, availabilitySeconds: 3600 });
  agent.start();
  const publishers = sensors.map((s) => new SpoolingPublisher(s, secrets.get(s)!, collector.mqttUrl, 200));
  for (const p of publishers) p.start();
  scope.defer(async () => {
    for (const p of publishers) await p.close();
  });
  await collector.api.waitForStatus('agent-1', 'online', 60_000);
  await eventually(async () => (publishers.every((p) => p.stats.acked >= 10) ? true : undefined), {
    what: 'each publisher has 10 reports stored',
    timeoutMs: 60_000,
  });
  return { agent, publishers };
}
