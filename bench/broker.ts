/**
 * Sensor message path into the collector: N QoS 1 health messages (real CBOR payloads, ≤ 1,000 in
 * flight, STACK.md pitfall 3) from one sensor client, each decoded and validated on arrival.
 *
 *   ours:      the embedded broker (aedes + our auth/ACL hooks) with the in-process consumer
 *   reference: Mosquitto 2 with the collector as an MQTT 5 client (our external transport,
 *              shared subscription, PUBACK after the handler)
 *
 * Both in the same run. Mosquitto runs in its own process, so its CPU is not in "CPU s" (which
 * counts this process: publisher + consumer, + broker for ours). Storage is not part of this
 * bench (the consumer stops at decode), so the numbers are the transport ceiling.
 *
 * Usage: node --conditions=pcapmesh-src --import tsx bench/broker.ts [messages=20000] [runs=3]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions } from 'mqtt';
import { pino } from 'pino';
import { freePort } from '@pcapmesh/shared/util/testing';
import { decodeMessage, encodeMessage, Sequencer, topics } from '@pcapmesh/shared/wire';
import { startEmbeddedBroker } from '../collector/src/broker/embedded.js';
import { connectExternalBroker } from '../collector/src/broker/external.js';
import type { BrokerTransport } from '../collector/src/broker/transport.js';
import { DomainEvents } from '../collector/src/domain/events.js';
import { SensorService } from '../collector/src/domain/sensors/sensors.service.js';
import { openDb } from '../collector/src/storage/db.js';
import { migrate } from '../collector/src/storage/migrate.js';
import { printTable, type Measurement } from './lib/measure.js';

const messages = Number(process.argv[2] ?? 20_000);
const runs = Number(process.argv[3] ?? 3);
const WINDOW = 1_000;
const log = pino({ level: 'silent' });
const SENSOR = 'bench';

const payload = Buffer.from(
  encodeMessage(
    'health',
    new Sequencer(1).stamp('health', {
      cpu: { usage: 12.5, cores: 8 },
      memory: { total: 16e9, used: 6e9, available: 10e9 },
      load: [0.5, 0.4, 0.3],
      uptime: 123456,
      disks: [{ mount: '/data', fs: 'ext4', size: 1e12, used: 4e11, available: 6e11, directories: ['/data/pcap'] }],
      interfaces: [{ name: 'eth0', up: true, rxBytes: 1e12, txBytes: 1e9, rxPackets: 1e9, txPackets: 1e6, rxDropped: 0, rxErrors: 0 }],
      captures: [{ interface: 'eth0', running: true, pid: 1234, packets: 1e9, drops: 0 }],
      clockOffsetMs: 3,
    }),
  ),
);
const topic = topics.sensor(SENSOR, 'health');

/** One run: publish `messages`, resolve when the consumer has decoded them all. */
async function run(url: string, client: IClientOptions, counter: { n: number; bad: number }) {
  const publisher = await connectAsync(url, { reconnectPeriod: 0, ...client }, false);
  const start = counter.n;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let inFlight = 0;
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (inFlight < WINDOW && sent < messages) {
        inFlight += 1;
        sent += 1;
        publisher.publish(topic, payload, { qos: 1 }, (err) => {
          if (err) return reject(err);
          inFlight -= 1;
          pump();
        });
      }
      if (sent === messages && counter.n - start >= messages) resolve();
    };
    const poll = setInterval(() => {
      if (counter.n - start >= messages) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
    pump();
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await publisher.endAsync();
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function row(label: string, results: { seconds: number; cpuSeconds: number }[], rss: number): Measurement {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    label,
    seconds: median(results.map((r) => r.seconds)),
    runs: results.map((r) => r.seconds),
    cpuSeconds: median(results.map((r) => r.cpuSeconds)),
    peakRssMiB: rss,
  };
}

const consumer = (counter: { n: number; bad: number }) => async (_topic: string, bytes: Buffer) => {
  if (decodeMessage('health', bytes).ok) counter.n += 1;
  else counter.bad += 1;
};

// ours: embedded aedes, real sensor authentication against an in-memory PGlite
const db = await openDb({ url: 'memory://' });
await migrate(db);
const sensors = new SensorService({ db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
const { secret } = await sensors.register({ name: SENSOR });
const embedded = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log, policy: { verifySecret: (n, s) => sensors.verifySecret(n, s) } });
const oursCount = { n: 0, bad: 0 };
await embedded.consume(consumer(oursCount));
const ours: { seconds: number; cpuSeconds: number }[] = [];

// reference: Mosquitto 2 + the collector as MQTT 5 client
const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-bench-mosquitto-'));
const mport = await freePort();
writeFileSync(
  join(dir, 'm.conf'),
  `listener ${mport} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 1000\nmax_queued_messages 100000\n`,
);
const mosquitto = spawn('mosquitto', ['-c', join(dir, 'm.conf')], { stdio: 'ignore' });
let external: BrokerTransport | undefined;
for (let i = 0; !external; i++) {
  try {
    external = await connectExternalBroker({ url: `mqtt://127.0.0.1:${mport}`, sharedGroup: 'bench', log, connectTimeoutMs: 500 });
  } catch (err) {
    if (i > 50) throw err;
    await new Promise((r) => setTimeout(r, 100));
  }
}
const refCount = { n: 0, bad: 0 };
await external.consume(consumer(refCount));
const ref: { seconds: number; cpuSeconds: number }[] = [];

let rss = 0;
for (let i = 0; i < runs; i++) {
  ours.push(await run(`mqtt://127.0.0.1:${embedded.ports.mqtt}`, { clientId: SENSOR, username: SENSOR, password: secret }, oursCount));
  rss = Math.max(rss, process.memoryUsage().rss / 2 ** 20);
  ref.push(await run(`mqtt://127.0.0.1:${mport}`, { clientId: `${SENSOR}-ref` }, refCount));
}
if (oursCount.bad + refCount.bad > 0) throw new Error(`decode failures: ours ${oursCount.bad}, reference ${refCount.bad}`);

printTable(
  `sensor → collector, ${messages} QoS 1 health messages (${payload.byteLength} B each)`,
  [row('embedded aedes + in-process consumer (ours)', ours, rss), row('mosquitto 2 + collector as MQTT 5 client', ref, 0)],
  { bytes: messages * payload.byteLength },
);
const rate = (r: Measurement) => Math.round(messages / r.seconds);
console.log(`messages/s (median): ours ${rate(row('', ours, 0))}, mosquitto path ${rate(row('', ref, 0))}`);

await external.close();
await embedded.close();
await db.close();
mosquitto.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });
