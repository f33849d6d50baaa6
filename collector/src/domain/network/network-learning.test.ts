import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDb } from '../../storage/db.js';
import { tryLearnLock } from '../../storage/network-map.repo.js';
import { forEachDatabase } from '../../testing/databases.js';
import { traffic } from '../sensors/sensors.fixture.js';
import { flow, networkHarness } from './network.fixture.js';

forEachDatabase('subnet map learning', (ctx) => {
  test('one collector learns at a time: a pass while another holds the lock is skipped, the next one learns', async () => {
    const h = networkHarness(ctx.db);
    await h.sensors.register({ name: 'l1', location: 'site-l' });
    await h.sensors.ingestTraffic('l1', traffic(1, Date.now(), [flow('10.9.0.0/24', '10.9.1.0/24', 100)]));
    if (ctx.kind === 'postgres') {
      // Another collector (a second pool on the same database) is in the middle of its pass.
      const other = await openDb({ url: ctx.url });
      try {
        await other.transaction(async (tx) => {
          assert.equal(await tryLearnLock(tx), true);
          const skipped = await h.network.learn();
          assert.deepEqual([skipped.skipped, skipped.events.length], [true, 0]);
        });
      } finally {
        await other.close();
      }
      assert.deepEqual(await h.network.subnets(), [], 'nothing learned by the skipped pass');
    }
    const report = await h.network.learn();
    assert.equal(report.skipped, false);
    assert.deepEqual(
      report.events.map((e) => [e.subnet, e.location]),
      [
        ['10.9.0.0/24', 'site-l'],
        ['10.9.1.0/24', 'site-l'],
      ],
    );
    assert.equal((await h.network.learn()).events.length, 0, 'a second pass finds nothing new');

    // A pin on a subnet never seen, then unpinned: the row goes, each step is an event.
    const pinned = await h.network.pin('192.0.2.0/24', 'site-l', { actor: 'admin' });
    assert.deepEqual([pinned.state, pinned.location, pinned.learned.state, pinned.firstSeen], ['pinned', 'site-l', null, null]);
    await h.network.unpin('192.0.2.0/24', { actor: 'admin' });
    assert.deepEqual(
      (await h.network.subnets()).map((s) => s.subnet),
      ['10.9.0.0/24', '10.9.1.0/24'],
    );
    assert.deepEqual(
      h.subnetEvents.slice(-2).map((e) => [e.change, e.state, e.location, e.previousState, e.previousLocation]),
      [
        ['pinned', 'pinned', 'site-l', null, null],
        ['unpinned', 'unseen', null, 'pinned', 'site-l'],
      ],
    );
  });
});
