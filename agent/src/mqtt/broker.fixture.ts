/**
 * A real MQTT broker for agent tests: aedes (the collector's embedded broker library) on a
 * loopback TCP port, recording every message published on the sensor tree and the retained
 * state. `stop()` closes the listener and every client socket (a broker outage); `start()` again
 * on the same port brings a fresh broker back.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import { decodeMessage, parseTopic, type MessageKind } from '@pcapmesh/shared/wire';

export interface Received {
  topic: string;
  kind: MessageKind;
  retain: boolean;
  message: Record<string, unknown> & { seq: number };
  at: number;
}

export class TestBroker {
  readonly received: Received[] = [];
  port = 0;
  private broker: Aedes | null = null;
  private server: Server | null = null;
  private sockets = new Set<Socket>();

  constructor(
    private readonly credentials?: { username: string; password: string },
    private readonly policy: { refuseSubscriptions?: boolean; tls?: { key: Buffer; cert: Buffer } } = {},
  ) {}

  get url(): string {
    return `${this.policy.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const broker = await Aedes.createBroker({
      authenticate: (_client, username, password, done) => {
        if (!this.credentials) return done(null, true);
        const ok = username === this.credentials.username && password?.toString() === this.credentials.password;
        if (ok) return done(null, true);
        const err = Object.assign(new Error('bad credentials'), { returnCode: 4 as const });
        return done(err, false);
      },
    });
    broker.authorizeSubscribe = (_client, sub, done) => done(null, this.policy.refuseSubscriptions ? null : sub);
    broker.on('publish', (packet) => {
      const parsed = parseTopic(packet.topic);
      if (!parsed || (parsed.kind !== 'sensor' && parsed.kind !== 'task-status' && parsed.kind !== 'estimate')) return;
      const kind: MessageKind = parsed.kind === 'sensor' ? parsed.channel : parsed.kind;
      const decoded = decodeMessage(kind, new Uint8Array(packet.payload as Buffer));
      if (!decoded.ok) throw new Error(`undecodable ${packet.topic}: ${decoded.detail}`);
      this.received.push({ topic: packet.topic, kind, retain: packet.retain, message: decoded.message as Received['message'], at: Date.now() });
    });
    const onSocket = (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      broker.handle(socket);
    };
    const server = this.policy.tls ? createTlsServer(this.policy.tls, onSocket) : createServer(onSocket);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.broker = broker;
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.broker ? this.broker.close(() => resolve()) : resolve()));
    this.server = null;
    this.broker = null;
  }

  /** Publishes as the collector would (QoS 1), e.g. a command to a sensor. */
  async publish(topic: string, payload: Uint8Array): Promise<void> {
    const broker = this.broker;
    if (!broker) throw new Error('broker not started');
    await new Promise<void>((resolve, reject) => {
      broker.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Messages of one kind, in arrival order. */
  of(kind: MessageKind): Received[] {
    return this.received.filter((r) => r.kind === kind);
  }

  async until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
