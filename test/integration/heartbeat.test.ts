/**
 * Issue 2, offline detection backstop: "a heartbeat timeout (default 3 × the health interval)". A
 * sensor whose connection stays up (mqtt.js keeps pinging) but that stops reporting health goes
 * offline for the heartbeat timeout — no last will is involved — and its next report brings it back.
 */
import assert from 'node:assert/strict';
import { topics } from '@pcapmesh/shared/wire';
import { BACKENDS, Collector, MessageFactory, connectClient, healthBody, integrationTest, prepareBackend } from './harness.js';

for (const backendName of BACKENDS) {
  integrationTest(`heartbeat: a silent but connected sensor goes offline after 3 × the health interval [${backendName}]`, async (scope) => {
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;
    const collector = await Collector.create(scope, { backend, healthIntervalSeconds: 2 });
    const secret = await collector.addSensor('alpha');
    await collector.start();
    const { api } = collector;

    const client = await connectClient({ url: collector.mqttUrl, username: 'alpha', password: secret }, { keepalive: 2 });
    const messages = new MessageFactory(1);
    await client.publishAsync(topics.sensor('alpha', 'state'), messages.encode('state', { status: 'online', bdSeq: 1 }), { qos: 1 });
    await client.publishAsync(topics.sensor('alpha', 'health'), messages.encode('health', healthBody()), { qos: 1 });
    await api.waitForStatus('alpha', 'online', 10_000);

    // Timeout 3 × 2 s; the sweeper's period and a loaded machine add slack to the deadline.
    const offline = await api.waitForStatus('alpha', 'offline', 30_000);
    assert.match(offline.reason ?? '', /heartbeat/i);
    const silentMs = Date.parse(offline.since ?? '') - Date.parse(offline.lastSeen ?? '');
    assert.ok(silentMs >= 6_000, `marked offline ${silentMs} ms after the last message, before the 6 s timeout`);
    assert.ok(client.connected, 'the connection was up all along: no will was involved');

    await client.publishAsync(topics.sensor('alpha', 'health'), messages.encode('health', healthBody()), { qos: 1 });
    await api.waitForStatus('alpha', 'online', 10_000);
    await client.endAsync();
    await collector.stop();
  });
}
