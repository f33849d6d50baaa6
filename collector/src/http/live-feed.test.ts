import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { openCache, type CacheStore } from '../cache/store.js';
import { DomainEvents, type JobStatusEvent, type SensorStatusEvent, type TaskProgressEvent } from '../domain/events.js';
import { forEachCache } from '../testing/caches.js';
import { LIVE_CHANNEL, openLiveFeed, type LiveEvent } from './live-feed.js';

const log = pino({ level: 'silent' });

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

const statusEvent = (sensor: string): SensorStatusEvent => ({
  type: 'sensor.status',
  sensor,
  status: 'online',
  previous: 'unknown',
  reason: 'birth',
  at: new Date().toISOString(),
});

forEachCache('live feed across replicas', (ctx) => {
  test("one replica's events reach every replica's listeners; bad messages are dropped", async () => {
    // Replica B: its own store on the same namespace (Redis), or the same process (memory).
    const second: CacheStore = ctx.kind === 'redis' ? await openCache({ url: ctx.url, keyPrefix: ctx.keyPrefix }) : ctx.cache;
    const eventsA = new DomainEvents();
    const eventsB = new DomainEvents();
    const hubA = await openLiveFeed(eventsA, ctx.cache, log);
    const hubB = await openLiveFeed(eventsB, second, log);
    try {
      const seenA: LiveEvent[] = [];
      const seenB: LiveEvent[] = [];
      hubA.subscribe((e) => seenA.push(e));
      const offB = hubB.subscribe((e) => seenB.push(e));
      hubB.subscribe(() => {
        throw new Error('a broken listener');
      });

      eventsA.emit('sensor.status', statusEvent('edge-a'));
      await until(() => seenA.length === 1 && seenB.length === 1, 'delivered to both replicas');
      assert.deepEqual(seenB[0], seenA[0]);
      assert.equal((seenB[0] as SensorStatusEvent).sensor, 'edge-a');

      await ctx.cache.publish(LIVE_CHANNEL, '{not json');
      eventsB.emit('sensor.status', statusEvent('edge-b'));
      await until(() => seenA.length === 2 && seenB.length === 2, 'later events still flow');
      assert.equal((seenA[1] as SensorStatusEvent).sensor, 'edge-b');

      // Job and task updates travel the same way.
      const job: JobStatusEvent = {
        type: 'job.status',
        job: 'j1',
        event: 'running',
        status: 'running',
        owner: 'ana',
        ownerId: 'user:1',
        name: null,
        window: { from: '2026-01-02T03:00:00.000000Z', to: '2026-01-02T03:10:00.000000Z' },
        tasks: { total: 1, done: 0, failed: 0, running: 1 },
        packets: 0,
        bytes: 0,
        at: new Date().toISOString(),
      };
      const task: TaskProgressEvent = {
        type: 'task.progress',
        job: 'j1',
        task: 't1',
        sensor: 'edge-a',
        status: 'scanning',
        attempt: 0,
        reason: null,
        progress: { filesScanned: 1, filesTotal: 3, packets: 5, bytes: 500 },
        at: new Date().toISOString(),
      };
      eventsA.emit('job.status', job);
      eventsA.emit('task.progress', task);
      await until(() => seenB.length === 4, 'job and task events delivered');
      assert.deepEqual(seenB.slice(2), [job, task]);
      seenA.splice(2);
      seenB.splice(2);

      offB();
      assert.equal(hubB.listeners, 1);
      await hubA.close();
      eventsA.emit('sensor.status', statusEvent('after-close'));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(seenA.length, 2, 'a closed hub neither forwards nor delivers');
      assert.equal(seenB.length, 2);
    } finally {
      await hubA.close();
      await hubB.close();
      if (second !== ctx.cache) await second.close();
    }
  });
});
