import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTopic, sensorMayPublish, sensorMaySubscribe, topics, integrationMaySubscribe } from './topics.js';

test('topics round-trip through parseTopic', () => {
  assert.deepEqual(parseTopic(topics.sensor('alpha', 'health')), { kind: 'sensor', sensor: 'alpha', channel: 'health' });
  assert.deepEqual(parseTopic(topics.taskStatus('alpha', 't-1')), { kind: 'task-status', sensor: 'alpha', taskId: 't-1' });
  assert.deepEqual(parseTopic(topics.command('alpha', 'cancel')), { kind: 'command', sensor: 'alpha', command: 'cancel' });
  assert.deepEqual(parseTopic(topics.event('sensors', 'alpha', 'status')), { kind: 'event', levels: ['sensors', 'alpha', 'status'] });
});

test('parseTopic rejects what is not ours', () => {
  for (const t of [
    'other/v1/sensors/a/state',
    'pcapmesh/v1/sensors/a/bogus',
    'pcapmesh/v1/sensors/A/state',
    'pcapmesh/v1/sensors/a/state/extra',
    'pcapmesh/v1/sensors//state',
    'pcapmesh/v1/commands/a/reboot',
    'pcapmesh/v1/events/',
  ]) {
    assert.equal(parseTopic(t), null, t);
  }
});

test('builders refuse names that would escape their topic level', () => {
  for (const bad of ['a/b', '+', '#', '', 'A', '$SYS', 'x'.repeat(64)]) {
    assert.throws(() => topics.sensor(bad, 'state'), /invalid sensor name/);
  }
});

test('sensor ACL: own topics only', () => {
  assert.ok(sensorMayPublish('a', topics.sensor('a', 'state')));
  assert.ok(sensorMayPublish('a', topics.taskStatus('a', 'task1')));
  assert.ok(!sensorMayPublish('a', topics.sensor('b', 'state')));
  assert.ok(!sensorMayPublish('a', topics.command('a', 'tasks')));
  assert.ok(!sensorMayPublish('a', 'pcapmesh/v1/events/sensors/a/status'));
  assert.ok(sensorMaySubscribe('a', 'pcapmesh/v1/commands/a/#'));
  assert.ok(sensorMaySubscribe('a', 'pcapmesh/v1/commands/a/tasks'));
  assert.ok(!sensorMaySubscribe('a', 'pcapmesh/v1/commands/b/#'));
  assert.ok(!sensorMaySubscribe('a', 'pcapmesh/v1/commands/+/tasks'));
  assert.ok(!sensorMaySubscribe('a', 'pcapmesh/v1/#'));
  assert.ok(!sensorMaySubscribe('a', '$share/g/pcapmesh/v1/commands/a/#'));
  assert.ok(integrationMaySubscribe('pcapmesh/v1/events/#'));
  assert.ok(!integrationMaySubscribe('pcapmesh/v1/sensors/#'));
});

test('dry-run estimates: a command to the sensor, the answer under its own tree', () => {
  assert.equal(topics.estimate('alpha', 'r-1'), 'pcapmesh/v1/sensors/alpha/estimates/r-1');
  assert.deepEqual(parseTopic(topics.estimate('alpha', 'r-1')), { kind: 'estimate', sensor: 'alpha', requestId: 'r-1' });
  assert.deepEqual(parseTopic(topics.command('alpha', 'estimate')), { kind: 'command', sensor: 'alpha', command: 'estimate' });
  assert.ok(sensorMayPublish('alpha', topics.estimate('alpha', 'r-1')));
  assert.ok(!sensorMayPublish('beta', topics.estimate('alpha', 'r-1')));
  assert.ok(sensorMaySubscribe('alpha', 'pcapmesh/v1/commands/alpha/estimate'));
});
