import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainEvents, type SensorStatusEvent } from './events.js';

const event: SensorStatusEvent = { type: 'sensor.status', sensor: 'a', status: 'online', previous: 'unknown', reason: 'birth', at: '2026-01-01T00:00:00.000Z' };

test('listeners get events in order; unsubscribe works; a throwing listener disturbs no one', () => {
  const failures: [unknown, string][] = [];
  const events = new DomainEvents((err, name) => failures.push([err, name]));
  const got: string[] = [];
  events.on('sensor.status', () => {
    throw new Error('boom');
  });
  const off = events.on('sensor.status', (e) => got.push(`1:${e.sensor}`));
  events.on('sensor.status', (e) => got.push(`2:${e.sensor}`));
  events.on('sensor.health', () => got.push('health'));
  events.emit('sensor.status', event);
  assert.deepEqual(got, ['1:a', '2:a']);
  assert.equal(failures.length, 1);
  assert.equal(failures[0]![1], 'sensor.status');
  off();
  events.emit('sensor.status', { ...event, sensor: 'b' });
  assert.deepEqual(got, ['1:a', '2:a', '2:b']);
  assert.equal(events.listenerCount('sensor.status'), 2);
});
