/**
 * One load process of bench/fleet.ts: simulates a slice of the fleet, each agent with its own
 * credentials and an mqtt.js client of its own, doing what the real agent does on the wire
 * (agent/src/mqtt/connection.ts): client id = user name = sensor name, the retained QoS 1 last will
 * (state offline "lost"), subscribe to its commands, the retained birth (state online, bdSeq), then
 * a health message (708 B CBOR) every 10 s, PCAP availability and a traffic summary every 60 s —
 * all QoS 1, encoded with the shared wire encoders, first sends spread over the period. A lost or
 * refused connection is retried after the agent's own `reconnectDelay` (full jitter), with the
 * agent's CONNACK timeout.
 *
 * Protocol (IPC with the parent): receives `{ cmd: 'start', url, agents: [{ name, secret }] }` and
 * `{ cmd: 'stop' }`; sends a `FleetReport` every second (counters since start, lags since the last
 * report) and `{ stopped: true }` after a stop. Lag = health publish → its PUBACK, which the
 * collector sends only after the message is stored (docs/operations.md "Database failures").
 */
import mqtt, { type MqttClient } from 'mqtt';
import { encodeMessage, Sequencer, topics, type Body } from '@pcapmesh/shared/wire';
import { BIRTH_ACK_TIMEOUT_MS, CONNACK_TIMEOUT_MS, reconnectDelay } from '../../agent/src/mqtt/connection.js';

export interface FleetReport {
  online: number;
  /** CONNECT attempts, CONNACK timeouts, CONNACK 3 (busy), other refusals, connections lost. */
  attempts: number;
  connackTimeouts: number;
  busy: number;
  refused: number;
  lost: number;
  /** Births not acknowledged in time (the connection is dropped and retried, as the agent does). */
  birthTimeouts: number;
  sent: number;
  acked: number;
  healthSent: number;
  healthAcked: number;
  /** Health publish → PUBACK, ms, since the previous report. */
  lags: number[];
}

const HEALTH_MS = 10_000;

const SLOW_MS = 60_000;

const healthBody = (n: number): Body<'health'> => ({
  cpu: { usage: (n * 7) % 100, cores: 8 },
  memory: { total: 16_000_000_000, used: 6_000_000_000 + n, available: 10_000_000_000 - n },
  load: [0.5, 0.4, 0.3],
  uptime: 123_456 + n * 10,
  disks: [
    { mount: '/data', fs: 'ext4', size: 1e12, used: 4e11 + n, available: 6e11 - n, directories: ['/data/pcap/eth0', '/data/pcap/eth1'] },
    { mount: '/', fs: 'ext4', size: 1e11, used: 2e10, available: 8e10, directories: [] },
  ],
  interfaces: ['eth0', 'eth1'].map((name, i) => ({
    name,
    up: true,
    rxBytes: 1e12 + n * 1e6 + i,
    txBytes: 1e9 + n,
    rxPackets: 1e9 + n * 1e3,
    txPackets: 1e6 + n,
    rxDropped: i,
    rxErrors: 0,
  })),
  captures: ['eth0', 'eth1'].map((name) => ({ interface: name, running: true, pid: 4242, packets: 1e9 + n * 1e3, drops: 0 })),
  clockOffsetMs: 3,
  spoolDropped: 0,
});

const pcapBody = (): Body<'pcap'> => {
  const now = Math.floor(Date.now() / 1000);
  return {
    sources: ['eth0', 'eth1'].map((name) => ({
      name,
      directory: `/data/pcap/${name}`,
      oldest: { sec: now - 86_400 * 7, nsec: 0 },
      newest: { sec: now, nsec: 0 },
      files: 2_000,
      bytes: 400_000_000_000,
      gaps: [],
      problems: [],
      indexedFiles: 1_999,
      unindexedFiles: 1,
    })),
  };
};

const trafficBody = (i: number): Body<'traffic'> => {
  const minute = Math.floor(Date.now() / 60_000) * 60;
  return {
    intervalStart: minute - 60,
    intervalSeconds: 60,
    flows: Array.from({ length: 10 }, (_, k) => ({ srcNet: `10.${i & 255}.${k}.0/24`, dstNet: `172.16.${k}.0/24`, packets: 100 + k, bytes: 150_000 + k })),
  };
};

class SimAgent {
  private client: MqttClient | null = null;
  private timers: NodeJS.Timeout[] = [];
  private retry = 0;
  private bdSeq = 0;
  private readonly seq = new Sequencer(1);
  private stopped = false;
  online = false;

  constructor(
    private readonly url: string,
    private readonly name: string,
    private readonly secret: string,
    private readonly index: number,
    private readonly report: FleetReport,
  ) {}

  connect(): void {
    if (this.stopped) return;
    this.bdSeq += 1;
    this.report.attempts += 1;
    const will = encodeMessage('state', { v: 1, sentAt: Date.now(), seq: this.seq.next, status: 'offline', bdSeq: this.bdSeq, reason: 'lost' });
    const client = mqtt.connect(this.url, {
      clientId: this.name,
      username: this.name,
      password: this.secret,
      protocolVersion: 4,
      keepalive: 60,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: CONNACK_TIMEOUT_MS,
      will: { topic: topics.sensor(this.name, 'state'), payload: Buffer.from(will), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => void this.onConnect(client));
    client.on('error', (err: Error & { code?: number }) => {
      if (err.message === 'connack timeout') this.report.connackTimeouts += 1;
      else if (err.code === 3) this.report.busy += 1;
      else if (typeof err.code === 'number') this.report.refused += 1;
    });
    client.on('close', () => this.onClose(client));
  }

  private async onConnect(client: MqttClient): Promise<void> {
    await client.subscribeAsync(topics.filters.sensorCommands(this.name), { qos: 1 }).catch(() => undefined);
    const birth = this.seq.stamp('state', {
      status: 'online',
      bdSeq: this.bdSeq,
      version: '0.1.0',
      location: `site-${this.index % 20}`,
      hostname: `${this.name}.example`,
      interfaces: ['eth0', 'eth1'].map((name) => ({ name, managed: true, directory: `/data/pcap/${name}` })),
      capabilities: ['health', 'pcap', 'traffic', 'extract'],
    });
    // Like the agent: no PUBACK for the birth in time → drop the connection and retry later.
    const timer = setTimeout(() => {
      this.report.birthTimeouts += 1;
      client.end(true);
    }, BIRTH_ACK_TIMEOUT_MS);
    const acked = await this.publish(client, 'state', encodeMessage('state', birth), true);
    clearTimeout(timer);
    if (!acked || this.client !== client || !client.connected) return;
    this.online = true;
    this.retry = 0;
    this.report.online += 1;
    let n = 0;
    const every = (period: number, send: () => void) => {
      const first = setTimeout(() => {
        send();
        this.timers.push(setInterval(send, period));
      }, Math.random() * period);
      this.timers.push(first);
    };
    every(HEALTH_MS, () => {
      const t0 = performance.now();
      this.report.healthSent += 1;
      void this.publish(client, 'health', encodeMessage('health', this.seq.stamp('health', healthBody(n++))), false).then((ok) => {
        if (!ok) return;
        this.report.healthAcked += 1;
        this.report.lags.push(performance.now() - t0);
      });
    });
    every(SLOW_MS, () => void this.publish(client, 'pcap', encodeMessage('pcap', this.seq.stamp('pcap', pcapBody())), true));
    every(SLOW_MS, () => void this.publish(client, 'traffic', encodeMessage('traffic', this.seq.stamp('traffic', trafficBody(this.index))), false));
  }

  /** True once acknowledged; false when the connection went down first. */
  private publish(client: MqttClient, channel: 'state' | 'health' | 'pcap' | 'traffic', payload: Uint8Array, retain: boolean): Promise<boolean> {
    this.report.sent += 1;
    return new Promise((resolve) => {
      client.publish(topics.sensor(this.name, channel), Buffer.from(payload), { qos: 1, retain }, (err) => {
        if (!err) this.report.acked += 1;
        resolve(!err);
      });
    });
  }

  private onClose(client: MqttClient): void {
    if (this.client !== client) return;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.online) {
      this.online = false;
      this.report.online -= 1;
      this.report.lost += 1;
    }
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end(true);
    this.client = null;
    if (this.stopped) return;
    setTimeout(() => this.connect(), reconnectDelay(this.retry++));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await this.client?.endAsync(true).catch(() => undefined);
  }
}

const report: FleetReport = {
  online: 0,
  attempts: 0,
  connackTimeouts: 0,
  busy: 0,
  refused: 0,
  lost: 0,
  birthTimeouts: 0,
  sent: 0,
  acked: 0,
  healthSent: 0,
  healthAcked: 0,
  lags: [],
};
let agents: SimAgent[] = [];
const ticker = setInterval(() => {
  process.send?.(report);
  report.lags = [];
}, 1_000);

process.on('message', (msg: { cmd: 'start'; url: string; agents: { name: string; secret: string; index: number }[] } | { cmd: 'stop' }) => {
  if (msg.cmd === 'start') {
    agents = msg.agents.map((a) => new SimAgent(msg.url, a.name, a.secret, a.index, report));
    // A cold start: every agent starts within the first second, as after a power cut or a deploy.
    for (const a of agents) setTimeout(() => a.connect(), Math.random() * 1_000);
    return;
  }
  void Promise.all(agents.map((a) => a.stop())).then(() => {
    clearInterval(ticker);
    process.send?.(report);
    process.send?.({ stopped: true }, () => process.exit(0));
  });
});
