/**
 * Issue 11, network view against the real collector process: two sensors at two locations,
 * driven by hand over MQTT (MessageFactory, real CBOR traffic messages), report their own subnets,
 * a flow between the sites and traffic to a shared outside subnet. The collector's learning pass
 * maps each site's subnets there and marks the shared one external, publishing each verdict on
 * `events/network/subnets` to an integration account; the traffic totals add up; a pin wins and
 * unpinning restores the verdict; clear-cache empties the location cache and a read refills it.
 * (The agent's own traffic summaries are tested on the agent's side.)
 */
import assert from 'node:assert/strict';
import { topics } from '@pcapmesh/shared/wire';
import { BACKENDS, Collector, MessageFactory, connectClient, eventually, integrationTest, prepareBackend } from './harness.js';

interface Subnet {
  subnet: string;
  state: string;
  location: string | null;
}

for (const backendName of BACKENDS) {
  integrationTest(`network: two sites learn their subnets, the shared one is external; pins; cache [${backendName}]`, async (scope) => {
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;
    const collector = await Collector.create(scope, { backend, extraConfig: { network: { learnIntervalSeconds: 5 } } });
    const secrets = { a1: await collector.addSensor('a1', 'site-a'), b1: await collector.addSensor('b1', 'site-b') };
    await collector.start();
    const { api } = collector;
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
      const res = await fetch(`${api.baseUrl}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${collector.apiToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    };

    // An integration watches the map's events.
    const integration = (await call('POST', '/admin/integrations', { name: 'globe' })).json as { username: string; secret: string };
    const watcher = await connectClient({
      url: collector.mqttUrl,
      username: integration.username,
      password: integration.secret,
      clientId: `${integration.username}:1`,
    });
    const events: { change: string; subnet: string; state: string; location: string | null }[] = [];
    watcher.on('message', (topic, payload) => {
      if (topic === topics.event('network', 'subnets')) events.push(JSON.parse(payload.toString()));
    });
    await watcher.subscribeAsync(topics.event('network', 'subnets'), { qos: 1 });

    const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const send = async (sensor: 'a1' | 'b1', flows: [string, string, number][]) => {
      const client = await connectClient({ url: collector.mqttUrl, username: sensor, password: secrets[sensor] });
      const messages = new MessageFactory(1);
      await client.publishAsync(topics.sensor(sensor, 'state'), messages.encode('state', { status: 'online', bdSeq: 1 }), { qos: 1 });
      const body = {
        intervalStart: minute,
        intervalSeconds: 60,
        flows: flows.map(([srcNet, dstNet, bytes]) => ({ srcNet, dstNet, packets: bytes / 100, bytes })),
      };
      const payload = messages.encode('traffic', body);
      await client.publishAsync(topics.sensor(sensor, 'traffic'), payload, { qos: 1 });
      await client.publishAsync(topics.sensor(sensor, 'traffic'), payload, { qos: 1 }); // a replay adds nothing
      await client.endAsync();
    };
    await send('a1', [
      ['10.1.1.0/24', '10.1.2.0/24', 1000],
      ['10.1.1.0/24', '203.0.113.0/24', 500],
      ['10.1.1.0/24', '10.2.1.0/24', 300],
    ]);
    await send('b1', [
      ['10.2.1.0/24', '203.0.113.0/24', 400],
      ['10.1.1.0/24', '10.2.1.0/24', 300],
      ['10.2.1.0/24', '10.2.2.0/24', 700],
    ]);

    const expected = [
      ['10.1.1.0/24', 'learned', 'site-a'],
      ['10.1.2.0/24', 'learned', 'site-a'],
      ['10.2.1.0/24', 'learned', 'site-b'],
      ['10.2.2.0/24', 'learned', 'site-b'],
      ['203.0.113.0/24', 'external', null],
    ];
    const map = () => call('GET', '/network/subnets').then((r) => (r.json as { subnets: Subnet[] }).subnets.map((s) => [s.subnet, s.state, s.location]));
    await eventually(async () => (JSON.stringify(await map()) === JSON.stringify(expected) ? true : undefined), { what: 'the learned map', timeoutMs: 60_000 });
    await eventually(async () => (events.length >= 5 ? true : undefined), { what: 'five events on events/network/subnets', timeoutMs: 15_000 });
    assert.deepEqual(
      events.map((e) => [e.change, e.subnet, e.state, e.location]).sort(),
      expected.map(([subnet, state, location]) => ['learned', subnet, state, location]).sort(),
    );

    const window = `from=${minute}&to=${minute + 60_000}`;
    const totals = async (query: string) => ((await call('GET', `/network/traffic?${window}&${query}`)).json as { totals: { bytes: number } }).totals.bytes;
    assert.equal(await totals('location=site-a'), 1800);
    assert.equal(await totals('location=site-b'), 1400);
    assert.equal(await totals(`subnet=${encodeURIComponent('203.0.113.9')}`), 900);
    const locations = (await call('GET', `/network/locations?${window}`)).json as { flows: unknown[] };
    assert.deepEqual(locations.flows, [{ from: 'site-a', to: 'site-b', packets: 3, bytes: 300 }]);

    // A pin wins (and survives learning passes); unpinning restores the verdict.
    const path = `/admin/subnets/${encodeURIComponent('203.0.113.0/24')}`;
    assert.equal((await call('PUT', path, { location: 'site-b' })).status, 200);
    await new Promise((r) => setTimeout(r, 6_000)); // at least one learning pass
    assert.deepEqual(
      (await map()).find((s) => s[0] === '203.0.113.0/24'),
      ['203.0.113.0/24', 'pinned', 'site-b'],
    );
    assert.equal((await call('DELETE', path)).status, 204);
    assert.deepEqual(
      (await map()).find((s) => s[0] === '203.0.113.0/24'),
      ['203.0.113.0/24', 'external', null],
    );
    assert.equal((await call('PUT', `/admin/subnets/${encodeURIComponent('203.0.113.0/33')}`, { location: 'site-b' })).status, 400);

    // The location cache: emptied by clear-cache (a second clear finds nothing), refilled by a read.
    // (Exact entry counts are checked in-process, network.test.ts: a learning pass here also drops it.)
    const before = (await call('GET', '/network/locations')).json;
    assert.equal((await call('POST', '/network/locations/clear-cache')).status, 200);
    assert.equal(((await call('POST', '/network/locations/clear-cache')).json as { cleared: number }).cleared, 0);
    assert.deepEqual(((await call('GET', '/network/locations')).json as { locations: unknown }).locations, (before as { locations: unknown }).locations);

    await watcher.endAsync();
    await collector.stop();
  });
}
