/**
 * Acceptance: "A sensor with a wrong secret is refused. Sensor A publishing under sensors/B/ is
 * refused and B's state is unchanged; A cannot subscribe to commands/B/#" — against a real collector
 * (embedded broker) on each storage backend, with B a real agent and A a hand-driven mqtt.js client.
 */
import assert from 'node:assert/strict';
import { topics } from '@pcapmesh/shared/wire';
import { Agent, BACKENDS, Collector, MessageFactory, closed, connectClient, eventually, grantedQos, integrationTest, prepareBackend } from './harness.js';

for (const backendName of BACKENDS) {
  integrationTest(`broker access control: wrong secret, foreign publish, foreign subscribe [${backendName}]`, async (scope) => {
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;
    const collector = await Collector.create(scope, { backend });
    const alphaSecret = await collector.addSensor('alpha');
    const betaSecret = await collector.addSensor('beta');
    await collector.start();
    const { api } = collector;

    // Wrong or unknown credentials.
    await assert.rejects(
      connectClient({ url: collector.mqttUrl, username: 'alpha', password: `${alphaSecret}x` }),
      /bad user ?name or password|not authori[sz]ed/i,
      'a wrong secret must be refused',
    );
    await assert.rejects(
      connectClient({ url: collector.mqttUrl, username: 'gamma', password: alphaSecret }),
      /bad user ?name or password|not authori[sz]ed/i,
      'an unknown sensor must be refused',
    );
    await assert.rejects(
      connectClient({ url: collector.mqttUrl, username: 'alpha', password: alphaSecret, clientId: 'beta' }),
      /identifier rejected|not authori[sz]ed|bad user ?name or password/i,
      'alpha must not take the client id of beta',
    );

    // B is a real agent, online and reporting.
    const beta = new Agent(scope, { name: 'beta', secret: betaSecret, mqttUrl: collector.mqttUrl, location: 'rack 7' });
    beta.start();
    await api.waitForStatus('beta', 'online', 30_000);
    const betaBefore = await eventually(
      async () => {
        const view = await api.sensor('beta');
        return view.lastSeen !== null && view.disks !== undefined ? view : undefined;
      },
      { what: 'beta has reported', timeoutMs: 15_000 },
    );
    const statusBefore = await api.status('beta');
    const refusedBefore = (await api.summary()).ingest.rejected['not-permitted'];

    // A, correctly authenticated, publishes a death certificate and a new location under B's topics.
    const alpha = await connectClient({ url: collector.mqttUrl, username: 'alpha', password: alphaSecret });
    const forged = new MessageFactory();
    alpha.publish(topics.sensor('beta', 'state'), forged.encode('state', { status: 'offline', bdSeq: 1_000_000, reason: 'lost', location: 'hijacked' }), {
      qos: 1,
    });
    await Promise.race([
      closed(alpha),
      new Promise((_, reject) => setTimeout(() => reject(new Error('the broker kept the connection of a sensor that published under another sensor')), 10_000)),
    ]);
    alpha.end(true);
    await api.waitForRejected('not-permitted', refusedBefore + 1, 10_000);
    // Later messages of B have been ingested since: the forged one had every chance to land.
    await eventually(
      async () => {
        const view = await api.sensor('beta');
        return view.lastSeen !== null && view.lastSeen > (betaBefore.lastSeen ?? '') ? true : undefined;
      },
      { what: 'beta reporting after the forged message', timeoutMs: 15_000 },
    );
    const betaAfter = await api.sensor('beta');
    const statusAfter = await api.status('beta');
    assert.equal(statusAfter.status, 'online', 'beta must still be online');
    assert.deepEqual(
      { status: statusAfter.status, reason: statusAfter.reason, since: statusAfter.since },
      { status: statusBefore.status, reason: statusBefore.reason, since: statusBefore.since },
      "beta's status must be unchanged",
    );
    assert.deepEqual(
      { location: betaAfter.location, version: betaAfter.version, hostname: betaAfter.hostname, interfaces: betaAfter.interfaces },
      { location: betaBefore.location, version: betaBefore.version, hostname: betaBefore.hostname, interfaces: betaBefore.interfaces },
      "beta's state must be unchanged",
    );
    assert.equal(betaAfter.location, 'rack 7');

    // A may subscribe to its own commands, not to B's, and not to a shared subscription.
    const alpha2 = await connectClient({ url: collector.mqttUrl, username: 'alpha', password: alphaSecret });
    assert.equal(await grantedQos(alpha2, topics.filters.sensorCommands('alpha')), 1, 'alpha may subscribe to its own commands');
    assert.equal(await grantedQos(alpha2, topics.filters.sensorCommands('beta')), 128, "alpha must not subscribe to beta's commands");
    assert.equal(await grantedQos(alpha2, 'pcapmesh/v1/commands/+/tasks'), 128, "alpha must not subscribe to every sensor's tasks");
    assert.equal(await grantedQos(alpha2, `$share/g/${topics.filters.sensorCommands('alpha')}`), 128, 'shared subscriptions are refused');
    assert.ok(alpha2.connected, 'a refused subscription must not cost the connection');
    await alpha2.endAsync();

    await beta.stop();
    await collector.stop();
  });
}
