/**
 * Finding 5 of #14: the plain MQTT listener binds apart from MQTTS (mqtt.plainHost) or is off
 * (mqtt.plainEnabled: false → port null).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { pino } from 'pino';
import { startEmbeddedBroker } from './embedded.js';

const log = pino({ level: 'silent' });
// No sensor may log in here: only who can reach which address is tested.
const policy = { verifySecret: () => Promise.resolve(false) };

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

test('the plain listener binds to mqtt.plainHost, not to mqtt.host', async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, plainHost: '127.0.0.2', log, policy });
  try {
    const port = broker.ports.mqtt!;
    assert.equal(await reachable('127.0.0.2', port), true);
    assert.equal(await reachable('127.0.0.1', port), false, 'not on the TLS listener’s address');
  } finally {
    await broker.close();
  }
});

test('without a plain port there is no plain listener', async () => {
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: null, log, policy });
  try {
    assert.deepEqual(broker.ports, { mqtt: null, mqtts: null });
  } finally {
    await broker.close();
  }
});
