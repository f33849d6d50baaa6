import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachCache } from '../testing/caches.js';
import { openCache } from './store.js';

/** Resolves with the first message on `channel` (or rejects after `ms`). */
function nextMessage(subscribe: (h: (m: string) => void) => Promise<unknown>, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
    void subscribe((m) => {
      clearTimeout(timer);
      resolve(m);
    });
  });
}

forEachCache('cache store contract', (ctx) => {
  test('get/set/del', async () => {
    const c = ctx.cache;
    assert.equal(await c.get('k1'), null);
    await c.set('k1', 'v1');
    assert.equal(await c.get('k1'), 'v1');
    await c.set('k1', 'v2');
    assert.equal(await c.get('k1'), 'v2');
    assert.equal(await c.del('k1'), true);
    assert.equal(await c.del('k1'), false);
    assert.equal(await c.get('k1'), null);
    await c.ping();
  });

  test('TTL expires values; incr counts with a fixed window', async () => {
    const c = ctx.cache;
    await c.set('ttl', 'x', 1);
    assert.equal(await c.get('ttl'), 'x');
    assert.equal(await c.incr('n', 1), 1);
    assert.equal(await c.incr('n', 1), 2);
    assert.equal(await c.incr('plain'), 1);
    await sleep(1300);
    assert.equal(await c.get('ttl'), null);
    assert.equal(await c.incr('n', 1), 1, 'the window ended: counting starts again');
    assert.equal(await c.incr('plain'), 2, 'no TTL: keeps counting');
    await c.set('word', 'abc');
    await assert.rejects(c.incr('word'));
    await assert.rejects(c.set('bad', 'x', 0), /TTL must be a whole number/);
  });

  test('publish reaches every subscriber; unsubscribe stops delivery', async () => {
    const c = ctx.cache;
    const got: string[] = [];
    const off = await c.subscribe('chan', (m) => got.push(`a:${m}`));
    const second = nextMessage((h) => c.subscribe('chan', h));
    await sleep(50);
    await c.publish('chan', 'hello');
    assert.equal(await second, 'hello');
    await sleep(50);
    assert.deepEqual(got, ['a:hello']);
    await off();
    await c.publish('chan', 'again');
    await sleep(200);
    assert.deepEqual(got, ['a:hello']);
    await c.publish('nobody-listens', 'x');
  });

  test('stores with the same prefix share keys; another prefix does not see them', async () => {
    const same = await openCache({ url: ctx.url, keyPrefix: ctx.keyPrefix });
    const other = await openCache({ url: ctx.url, keyPrefix: `${ctx.keyPrefix}other:` });
    try {
      await ctx.cache.set('shared', 'yes');
      if (ctx.kind === 'redis') assert.equal(await same.get('shared'), 'yes', 'Redis is shared between connections');
      assert.equal(await other.get('shared'), null);
    } finally {
      await same.close();
      await other.close();
    }
  });
});

test('an unreachable Redis is a clear error without the password', async () => {
  await assert.rejects(openCache({ url: 'redis://user:hunter2@127.0.0.1:1' }), (err: Error) => {
    assert.match(err.message, /cannot connect to Redis at redis:\/\/user:\*\*\*@127\.0\.0\.1:1/);
    assert.ok(!err.message.includes('hunter2'));
    return true;
  });
});
