/**
 * Acceptance on an external broker (issue item 6: "once with the collector on an external Mosquitto
 * broker"): the collector is an MQTT client of the Mosquitto of scripts/services.sh (MQTT 5, shared
 * subscription), with PostgreSQL and Redis; a real agent connects to Mosquitto with its own account
 * (Mosquitto's password file and ACL do the authentication and authorisation there).
 *
 * Shown here: birth and health ingested; a wrong secret refused; a publish under another sensor's
 * topics refused (the other sensor unchanged) and its commands never delivered to the wrong account; kill -9 → offline
 * within 5 s; restart → online; and a stale will replayed by a second client holding the sensor's
 * credentials WHILE the restarted agent stays connected (Mosquitto, unlike the embedded broker, does
 * not tie the client id to the account) does not flip it.
 *
 * All scenarios share one file and run one after another: collectors on the same Mosquitto share a
 * subscription group and would split each other's messages.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { topics } from '@pcapmesh/shared/wire';
import { Agent, Collector, MessageFactory, connectClient, eventually, externalMosquitto, grantedQos, integrationTest, prepareBackend } from './harness.js';
import { killShowsOfflineWithin5s, restartShowsOnline, staleWillIsIgnored } from './scenarios/liveness.js';

integrationTest(
  'external Mosquitto: ingest, access control, last will, restart, stale will [postgres + redis]',
  async (scope) => {
    const mosquitto = externalMosquitto(scope);
    if (!mosquitto) return;
    const backend = await prepareBackend(scope, 'postgres');
    if (!backend) return;
    // Names of their own: Mosquitto outlives this test and keeps retained messages.
    const run = randomBytes(4).toString('hex');
    const [a, b] = [`ext-${run}-a`, `ext-${run}-b`];

    const collector = await Collector.create(scope, { backend, externalBroker: mosquitto.collector, healthIntervalSeconds: 60 });
    const secretA = await collector.addSensor(a);
    const secretB = await collector.addSensor(b);
    await mosquitto.addSensor(a, secretA);
    await mosquitto.addSensor(b, secretB);
    await collector.start();
    const { api } = collector;
    scope.defer(async () => {
      // Clear what the agent left retained on the shared broker.
      const c = await connectClient({ url: mosquitto.collector.url, username: a, password: secretA, clientId: `${a}-cleanup` });
      for (const channel of ['state', 'pcap'] as const) await c.publishAsync(topics.sensor(a, channel), Buffer.alloc(0), { qos: 1, retain: true });
      await c.endAsync();
    });

    const agent = new Agent(scope, { name: a, secret: secretA, mqttUrl: mosquitto.collector.url, healthSeconds: 1, protocolVersion: 5 });
    agent.start();
    await api.waitForStatus(a, 'online', 30_000);
    const seen = await eventually(async () => ((await api.summary()).ingest.accepted.health >= 2 ? true : undefined), {
      what: `health of ${a} ingested through Mosquitto`,
      timeoutMs: 30_000,
    });
    assert.ok(seen);

    // Access control on Mosquitto.
    await assert.rejects(
      connectClient({ url: mosquitto.collector.url, username: a, password: `${secretA}x`, clientId: `${a}-wrong`, protocolVersion: 5 }),
      /bad user ?name or password|not authori[sz]ed/i,
      'a wrong secret must be refused',
    );
    const bBefore = await api.status(b);
    const impostor = await connectClient({ url: mosquitto.collector.url, username: a, password: secretA, clientId: `${a}-impostor`, protocolVersion: 5 });
    const forged = new MessageFactory();
    await impostor
      .publishAsync(topics.sensor(b, 'state'), forged.encode('state', { status: 'online', bdSeq: 99, location: 'hijacked' }), { qos: 1 })
      .catch(() => undefined); // MQTT 5: PUBACK "not authorized" (0x87)
    // Mosquitto's ACL grants any SUBSCRIBE and filters at delivery ("read" rules), so the property
    // to show is that A never receives B's commands: the collector account sends one to B, then one
    // to A on the same connection; by the time A's arrives, B's would have been delivered before it.
    const received: string[] = [];
    impostor.on('message', (topic) => received.push(topic));
    const refusedOrGranted = await grantedQos(impostor, topics.filters.sensorCommands(b));
    assert.ok([0, 1, 128].includes(refusedOrGranted), `unexpected SUBACK ${refusedOrGranted}`);
    assert.equal(await grantedQos(impostor, topics.filters.sensorCommands(a)), 1, `${a} may subscribe to its own commands`);
    const commander = await connectClient({
      url: mosquitto.collector.url,
      username: mosquitto.collector.username,
      password: mosquitto.collector.password,
      clientId: `pcapmesh-test-${run}`,
      protocolVersion: 5,
    });
    await commander.publishAsync(topics.command(b, 'cancel'), forged.encode('cancel', { taskId: 'for-b', reason: 'test' }), { qos: 1 });
    await commander.publishAsync(topics.command(a, 'cancel'), forged.encode('cancel', { taskId: 'for-a', reason: 'test' }), { qos: 1 });
    await commander.endAsync();
    await eventually(async () => (received.includes(topics.command(a, 'cancel')) ? true : undefined), {
      what: `${a}'s own command delivered`,
      timeoutMs: 10_000,
    });
    assert.deepEqual(received, [topics.command(a, 'cancel')], `${a} must receive its own command and never ${b}'s`);
    // A message published after the forged one has been ingested: the forged one had every chance.
    const marker = (await api.summary()).ingest.accepted.health;
    await eventually(async () => ((await api.summary()).ingest.accepted.health > marker + 1 ? true : undefined), {
      what: 'later health reports ingested',
      timeoutMs: 15_000,
    });
    const bAfter = await api.status(b);
    assert.deepEqual(bAfter, bBefore, `${b} must be unchanged by ${a}'s forged birth`);
    assert.equal(bAfter.status, 'unknown');

    // Last will, restart, stale will replayed while the agent is connected.
    await killShowsOfflineWithin5s(api, agent);
    await restartShowsOnline(api, agent);
    const replayer = impostor;
    await staleWillIsIgnored(api, a, replayer, forged, 0);
    await replayer.endAsync();
    // The agent, still connected, keeps the sensor online.
    assert.equal((await api.status(a)).status, 'online');

    await agent.stop();
    await api.waitForStatus(a, 'offline', 10_000);
    await collector.stop();
  },
  { timeoutMs: 240_000 },
);
