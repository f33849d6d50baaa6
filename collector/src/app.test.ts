import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { encodeMessage, Sequencer, topics } from '@pcapmesh/shared/wire';
import { createCollector } from './app.js';
import { collectorConfig } from './config.js';

const log = pino({ level: 'silent' });

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pcapmesh-collector-'));
}

/** Handles that keep the event loop alive, by kind (timers, sockets, servers, ...). */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

test('start wires everything on ephemeral ports; stop leaves nothing behind', async () => {
  const dataDir = tempDir();
  const before = activeResources();
  const collector = createCollector(
    collectorConfig({ dataDir, http: { port: 0 }, mqtt: { port: 0 }, database: { url: 'memory://' }, ingest: { healthIntervalSeconds: 1 } }),
    { log },
  );
  try {
    await collector.start();
    assert.match(collector.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(collector.mqttPort !== null && collector.mqttPort > 0);

    // The generated API token: written once, owner-only, and accepted by the API.
    assert.equal(collector.apiTokenFile, join(dataDir, 'api-token'));
    assert.equal(statSync(collector.apiTokenFile).mode & 0o777, 0o600);
    const token = readFileSync(collector.apiTokenFile, 'utf8').trim();
    const health = await fetch(`${collector.httpUrl}/api/v1/health`);
    assert.equal(health.status, 200);
    const anonymous = await fetch(`${collector.httpUrl}/api/v1/health/summary`);
    assert.equal(anonymous.status, 401);

    // A registered sensor connects, its birth is ingested and shows in the API.
    const { secret } = await collector.services.sensors.register({ name: 'edge-1', location: 'lab' });
    const sensor = await connectAsync(
      `mqtt://127.0.0.1:${collector.mqttPort}`,
      { clientId: 'edge-1', username: 'edge-1', password: secret, reconnectPeriod: 0 },
      false,
    );
    const birth = new Sequencer(1).stamp('state', { status: 'online', bdSeq: 1, version: '0.1.0', location: 'lab', interfaces: [] });
    await sensor.publishAsync(topics.sensor('edge-1', 'state'), Buffer.from(encodeMessage('state', birth)), { qos: 1, retain: true });
    let status = '';
    for (let i = 0; i < 100 && status !== 'online'; i++) {
      const res = await fetch(`${collector.httpUrl}/api/v1/sensors/edge-1/status`, { headers: { authorization: `Bearer ${token}` } });
      status = ((await res.json()) as { status: string }).status;
      if (status !== 'online') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 'online');
    const summary = (await (await fetch(`${collector.httpUrl}/api/v1/health/summary`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      sensors: Record<string, number>;
      ingest: { accepted: Record<string, number> };
      database: { ok: boolean };
      broker: { mode: string; clients: number };
    };
    assert.equal(summary.sensors.online, 1);
    assert.equal(summary.ingest.accepted.state, 1);
    assert.equal(summary.database.ok, true);
    assert.deepEqual([summary.broker.mode, summary.broker.clients], ['embedded', 1]);
    await sensor.endAsync();
  } finally {
    await collector.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  await new Promise((r) => setTimeout(r, 50));
  const after = activeResources();
  const leaked = Object.entries(after).filter(([kind, n]) => n > (before[kind] ?? 0));
  assert.deepEqual(leaked, [], 'no timers, sockets or servers left running');
});

test('a start that fails part-way names the step and releases what it had started', async () => {
  const dataDir = tempDir();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const takenPort = (blocker.address() as AddressInfo).port;
  const collector = createCollector(collectorConfig({ dataDir, http: { port: takenPort }, mqtt: { port: 0 }, database: { url: 'memory://' } }), { log });
  try {
    await assert.rejects(
      collector.start(),
      /collector start failed at "HTTP server": invalid configuration \(HTTP listener\):\n {2}- http\.port: 127\.0\.0\.1:\d+ is already in use \(EADDRINUSE\)/,
    );
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
  await collector.stop(); // idempotent after a failed start
});
