/**
 * A TCP proxy that breaks connections on purpose: an agent's `collectorUrl` points at it, it
 * forwards to the collector, and the test cuts what passes through — every open connection on
 * command, one connection after N bytes, or at seeded random points of the upstream byte stream.
 * Every cut is counted, so a test can prove the cuts happened (not only that the upload survived).
 *
 * A cut ends both sides of the connection at once — every other connection with a TCP reset, the
 * rest with a plain close — mid-request — the client sees a broken request, the server a truncated body.
 *
 * @example
 *   const proxy = await CuttingProxy.start(scope, { port: collectorHttpPort });
 *   proxy.cutRandomly({ cuts: 20, minGapBytes: 64 << 10, maxGapBytes: 512 << 10, seed: 7 });
 *   // … agent uploads through proxy.url …
 *   assert.equal(proxy.cuts, 20);
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TestScope } from './scope.js';

export interface CuttingProxyOptions {
  /** Where connections are forwarded. */
  port: number;
  host?: string;
}

export interface RandomCuts {
  /** How many cuts to make in all; the proxy forwards untouched after the last. */
  cuts: number;
  /** Upstream bytes (client → target, over all connections) between two cuts: drawn in [min, max). */
  minGapBytes: number;
  maxGapBytes: number;
  /** PRNG seed: the same seed cuts at the same byte positions. */
  seed: number;
}

interface Pair {
  id: number;
  client: Socket;
  upstream: Socket;
  /** Bytes forwarded client → target on this connection. */
  up: number;
  done: boolean;
}

/** mulberry32: small, fast, good enough for picking cut points. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class CuttingProxy {
  /** Connections cut so far (by any of the ways). */
  cuts = 0;
  /** Connections accepted so far. */
  connections = 0;
  /** Bytes forwarded client → target and target → client, over all connections. */
  bytesUp = 0;
  bytesDown = 0;
  /** Positions (in total upstream bytes) where random cuts happened, for failure messages. */
  readonly cutPositions: number[] = [];
  private readonly open = new Set<Pair>();
  private nextId = 0;
  private random: { left: number; nextAt: number; draw: () => number } | null = null;
  private armAfter: number | null = null;
  private refusing = false;

  private constructor(
    private readonly server: Server,
    private readonly target: Required<CuttingProxyOptions>,
  ) {}

  /** Listens on a free loopback port; closed at the end of the test. */
  static async start(scope: TestScope, opts: CuttingProxyOptions): Promise<CuttingProxy> {
    const target = { host: opts.host ?? '127.0.0.1', port: opts.port };
    let proxy: CuttingProxy | null = null;
    const server = createServer({ noDelay: true, allowHalfOpen: true }, (client) => proxy?.accept(client));
    proxy = new CuttingProxy(server, target);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    scope.defer(() => proxy.close());
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>`: give this to the agent as its collectorUrl. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Connections open right now. */
  get openConnections(): number {
    return this.open.size;
  }

  /** Cuts every open connection now; returns how many were cut. */
  cutAll(): number {
    let n = 0;
    for (const pair of [...this.open]) if (this.cut(pair)) n++;
    return n;
  }

  /** Arms a one-shot cut: the next connection to carry `bytes` more upstream bytes is cut there. */
  cutAfter(bytes: number): void {
    if (!(bytes >= 0)) throw new Error(`cutAfter: bytes must be ≥ 0, got ${bytes}`);
    this.armAfter = this.bytesUp + bytes;
  }

  /**
   * Cuts `cuts` times at seeded random points of the upstream stream, each `minGapBytes` to
   * `maxGapBytes` after the previous one (counting from now). Replaces an earlier plan.
   */
  cutRandomly(plan: RandomCuts): void {
    if (!(plan.cuts >= 1 && plan.minGapBytes >= 1 && plan.maxGapBytes > plan.minGapBytes)) {
      throw new Error(`cutRandomly: need cuts ≥ 1 and 1 ≤ minGapBytes < maxGapBytes, got ${JSON.stringify(plan)}`);
    }
    const rand = prng(plan.seed);
    const draw = () => plan.minGapBytes + Math.floor(rand() * (plan.maxGapBytes - plan.minGapBytes));
    this.random = { left: plan.cuts, nextAt: this.bytesUp + draw(), draw };
  }

  /** Random cuts still to come. */
  get randomCutsLeft(): number {
    return this.random?.left ?? 0;
  }

  /** While refusing, new connections are closed at once (the target looks unreachable); open ones are cut. */
  refuse(on: boolean): void {
    this.refusing = on;
    if (on) this.cutAll();
  }

  async close(): Promise<void> {
    this.refusing = true;
    for (const pair of [...this.open]) this.end(pair, true);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    this.connections++;
    const upstream = connect({ host: this.target.host, port: this.target.port, noDelay: true, allowHalfOpen: true });
    const pair: Pair = { id: this.nextId++, client, upstream, up: 0, done: false };
    this.open.add(pair);
    client.on('data', (chunk: Buffer) => this.forwardUp(pair, chunk));
    upstream.on('data', (chunk: Buffer) => {
      this.bytesDown += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
    // Half-closes pass through (HTTP/1.1 keep-alive never uses them, but a client may).
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    // A side that closes cleanly lets the other flush what it still has to write; an error ends both.
    const closed = (other: Socket) => (hadError: boolean) => {
      if (hadError) this.end(pair, false);
      else if (!other.destroyed) other.end();
      if (client.destroyed && upstream.destroyed) this.open.delete(pair);
    };
    client.on('close', closed(upstream));
    upstream.on('close', closed(client));
    client.on('error', () => this.end(pair, false));
    upstream.on('error', () => this.end(pair, false));
  }

  /** Forwards a client chunk, cutting inside it when a cut point falls within. */
  private forwardUp(pair: Pair, chunk: Buffer): void {
    if (pair.done) return;
    let limit = chunk.length;
    if (this.random !== null && this.random.left > 0) limit = Math.min(limit, this.random.nextAt - this.bytesUp);
    if (this.armAfter !== null) limit = Math.min(limit, this.armAfter - this.bytesUp);
    if (limit >= chunk.length) {
      this.sendUp(pair, chunk);
      return;
    }
    // A cut point lies inside this chunk: forward the bytes before it, then cut.
    if (limit > 0) this.sendUp(pair, chunk.subarray(0, limit));
    if (this.random !== null && this.random.left > 0 && this.bytesUp >= this.random.nextAt) {
      this.random.left--;
      this.random.nextAt = this.bytesUp + this.random.draw();
      this.cutPositions.push(this.bytesUp);
    }
    if (this.armAfter !== null && this.bytesUp >= this.armAfter) this.armAfter = null;
    this.cut(pair);
  }

  private sendUp(pair: Pair, bytes: Buffer): void {
    pair.up += bytes.length;
    this.bytesUp += bytes.length;
    if (!pair.upstream.write(bytes)) {
      pair.client.pause();
      pair.upstream.once('drain', () => pair.client.resume());
    }
  }

  private cut(pair: Pair): boolean {
    if (pair.done) return false;
    this.cuts++;
    // Alternate resets and plain closes, decided by the connection's id (deterministic per run).
    this.end(pair, pair.id % 2 === 0);
    return true;
  }

  private end(pair: Pair, reset: boolean): void {
    if (pair.done) return;
    pair.done = true;
    this.open.delete(pair);
    for (const s of [pair.client, pair.upstream]) {
      if (s.destroyed) continue;
      if (reset && !s.connecting) s.resetAndDestroy();
      else s.destroy();
    }
  }
}
