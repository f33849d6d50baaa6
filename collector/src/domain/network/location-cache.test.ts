import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCache } from '../../cache/memory.js';
import { forEachDatabase } from '../../testing/databases.js';
import { CACHE_KEYS } from './location-cache.js';
import { networkHarness } from './network.fixture.js';

/** A real memory cache whose next `set` of `key` waits until `release()`; `reached` resolves when it is waiting. */
class GatedCache extends MemoryCache {
  private gate: { key: string; reached: () => void; open: Promise<void> } | null = null;

  arm(key: string): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let reached!: () => void;
    const open = new Promise<void>((r) => (release = r));
    const reachedP = new Promise<void>((r) => (reached = r));
    this.gate = { key, reached, open };
    return { reached: reachedP, release };
  }

  override async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    const g = this.gate;
    if (g !== null && key.startsWith(g.key)) {
      this.gate = null;
      g.reached();
      await g.open;
    }
    return super.set(key, value, ttlSeconds);
  }
}

const pinned = (subnets: { subnet: string; state: string; location: string | null }[]) =>
  subnets.filter((s) => s.state === 'pinned').map((s) => [s.subnet, s.location]);

forEachDatabase('location cache read-your-write', (ctx) => {
  test('a read that started before a pin and stores its answer after it does not hide the pin from the next read', async () => {
    const cache = new GatedCache('test:');
    const h = networkHarness(ctx.db, { cache });
    await h.sensors.register({ name: 'rw1', location: 'site-rw' });
    const gate = cache.arm(CACHE_KEYS.subnets);
    const slow = h.network.subnets(); // loads the map without the pin, then waits to store it
    await gate.reached;
    await h.network.pin('192.0.2.0/24', 'site-rw', { actor: 'admin' });
    gate.release();
    assert.deepEqual(pinned(await slow), [], 'the slow read started before the pin');
    assert.deepEqual(pinned(await h.network.subnets()), [['192.0.2.0/24', 'site-rw']], 'the read after the pin returned');
    assert.equal(await h.network.cache.has(CACHE_KEYS.subnets), true, 'the current map is cached again');
    await h.network.unpin('192.0.2.0/24', { actor: 'admin' });
    assert.deepEqual(pinned(await h.network.subnets()), []);
  });

  test('collectors of two databases sharing one cache store (one Redis) never read each other’s entries', async () => {
    const shared = new MemoryCache('shared:');
    const other = await ctx.fresh({ migrate: true });
    try {
      const a = networkHarness(ctx.db, { cache: shared });
      const b = networkHarness(other.db, { cache: shared });
      await a.sensors.register({ name: 'xa1', location: 'site-xa' });
      await b.sensors.register({ name: 'xb1', location: 'site-xb' });
      await a.network.pin('198.51.100.0/24', 'site-xa', { actor: 'admin' });
      assert.deepEqual(pinned(await b.network.subnets()), [], "b's map, cached");
      assert.deepEqual(pinned(await a.network.subnets()), [['198.51.100.0/24', 'site-xa']], "a's map, not b's entry");
      const names = async (h: typeof a) => (await h.network.locations()).locations.map((l) => l.name);
      assert.deepEqual(await names(b), ['site-xb'], "b's locations, cached");
      const aNames = await names(a);
      assert.ok(aNames.includes('site-xa') && !aNames.includes('site-xb'), `a's locations, not b's entry: ${aNames.join(', ')}`);
      assert.equal(await a.network.clearCache({ actor: 'admin' }), 2, "a's two entries");
      assert.equal(await b.network.cache.has(CACHE_KEYS.subnets), true, "b's entries stay");
      await a.network.unpin('198.51.100.0/24', { actor: 'admin' });
    } finally {
      await other.drop();
    }
  });
});
