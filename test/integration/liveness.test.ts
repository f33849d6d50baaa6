/**
 * Acceptance: "kill -9 of the agent: the sensor shows offline within 5 s (last will). Restarted, it
 * is online again, and a stale will delivered late does not flip it offline" — real agent, real
 * collector with its embedded broker, on each storage backend. (The external-broker test repeats it
 * on Mosquitto, where the stale will is replayed while the restarted agent stays connected.)
 */
import assert from 'node:assert/strict';
import { topics } from '@pcapmesh/shared/wire';
import { Agent, BACKENDS, Collector, MessageFactory, connectClient, integrationTest, prepareBackend } from './harness.js';
import { killShowsOfflineWithin5s, restartShowsOnline, staleWillIsIgnored } from './scenarios/liveness.js';

for (const backendName of BACKENDS) {
  integrationTest(`liveness: kill -9 → offline within 5 s, restart → online, stale will ignored [${backendName}]`, async (scope) => {
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;
    // Heartbeat timeout 3 × 60 s: within this test only the last will can mark the sensor offline.
    const collector = await Collector.create(scope, { backend, healthIntervalSeconds: 60 });
    const secret = await collector.addSensor('alpha');
    await collector.start();
    const { api } = collector;

    const agent = new Agent(scope, { name: 'alpha', secret, mqttUrl: collector.mqttUrl, healthSeconds: 1 });
    agent.start();
    await api.waitForStatus('alpha', 'online', 30_000);

    await killShowsOfflineWithin5s(api, agent);
    await restartShowsOnline(api, agent);

    // On the embedded broker only the client id `alpha` may publish for alpha, and taking that id
    // over ends the agent's session (publishing its genuine will). So the stale will is checked on a
    // session of a test client holding alpha's credentials, after the agent has died again.
    await killShowsOfflineWithin5s(api, agent);
    const client = await connectClient({ url: collector.mqttUrl, username: 'alpha', password: secret });
    const messages = new MessageFactory();
    const bdSeq = 1_000;
    await client.publishAsync(topics.sensor('alpha', 'state'), messages.encode('state', { status: 'online', bdSeq, version: 'test' }), { qos: 1 });
    await api.waitForStatus('alpha', 'online', 10_000);
    await staleWillIsIgnored(api, 'alpha', client, messages, bdSeq - 1);
    // Control: the death of the current session does count.
    await client.publishAsync(topics.sensor('alpha', 'state'), messages.encode('state', { status: 'offline', bdSeq, reason: 'lost' }), { qos: 1 });
    const view = await api.waitForStatus('alpha', 'offline', 10_000);
    assert.equal(view.status, 'offline');
    await client.endAsync();

    await collector.stop();
  });
}
