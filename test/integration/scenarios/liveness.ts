/**
 * Liveness steps shared by the embedded-broker and external-broker tests: the last will on kill -9,
 * coming back after a restart, and the bdSeq rule that keeps a stale will from flipping a sensor.
 */
import assert from 'node:assert/strict';
import { topics } from '@pcapmesh/shared/wire';
import type { MqttClient } from 'mqtt';
import type { Agent, Api, MessageFactory } from '../harness.js';

/** The acceptance deadline for "offline after kill -9". */
export const WILL_DEADLINE_MS = 5_000;

/**
 * kill -9 of a running agent: the sensor must be offline within 5 s, for its last will (the test's
 * collector uses a heartbeat timeout far longer than that, so nothing else can explain it).
 */
export async function killShowsOfflineWithin5s(api: Api, agent: Agent): Promise<void> {
  const name = agent.opts.name;
  const killedAt = Date.now();
  await agent.kill9();
  const view = await api.waitForStatus(name, 'offline', WILL_DEADLINE_MS - (Date.now() - killedAt));
  assert.ok(Date.now() - killedAt <= WILL_DEADLINE_MS + 250, `offline seen ${Date.now() - killedAt} ms after kill -9`);
  assert.doesNotMatch(view.reason ?? '', /heartbeat/i, 'offline must come from the last will, not the heartbeat timeout');
  assert.match(view.reason ?? '', /will|lost/i, `offline reason ${JSON.stringify(view.reason)} should name the last will`);
}

/** Restarting the agent brings the sensor back online (a new birth). */
export async function restartShowsOnline(api: Api, agent: Agent): Promise<void> {
  agent.start();
  const view = await api.waitForStatus(agent.opts.name, 'online', 30_000);
  assert.equal(view.status, 'online');
}

/**
 * Publishes, on `client` (holding the sensor's credentials), an offline state with an older bdSeq —
 * a will delivered late — and checks it is counted as stale while the sensor stays online.
 */
export async function staleWillIsIgnored(api: Api, name: string, client: MqttClient, messages: MessageFactory, staleBdSeq: number): Promise<void> {
  const before = await api.summary();
  const statusBefore = await api.status(name);
  assert.equal(statusBefore.status, 'online', 'precondition: the sensor is online');
  await client.publishAsync(topics.sensor(name, 'state'), messages.encode('state', { status: 'offline', bdSeq: staleBdSeq, reason: 'lost' }), { qos: 1 });
  await api.waitForRejected('stale', before.ingest.rejected.stale + 1, 10_000);
  const after = await api.status(name);
  assert.equal(after.status, 'online', `a stale will (bdSeq ${staleBdSeq}) flipped ${name} to ${after.status}`);
  assert.equal(after.since, statusBefore.since, 'no status transition may be recorded for a stale will');
}
