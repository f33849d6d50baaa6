/**
 * Finding 10 of #14: refresh-token families and the in-memory cache are bounded — a refresh loop, a
 * login loop or a flood of keys does not grow them past their caps, and every key of a family
 * expires with the family.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryCache } from '../../cache/memory.js';
import { RefreshTokens } from './refresh-tokens.js';

const DAY_MS = 86_400_000;

test('a refresh loop keeps a bounded number of keys; reuse is still caught within the chain', async () => {
  const cache = new MemoryCache('t:');
  const tokens = new RefreshTokens(cache, 7, { chainLength: 8 });
  let token = await tokens.issue('ana');
  const history: string[] = [token];
  let peak = 0;
  for (let i = 0; i < 500; i++) {
    const next = await tokens.rotate(token);
    assert.ok(next.ok, `rotation ${i}`);
    token = next.token;
    history.push(token);
    peak = Math.max(peak, cache.size);
  }
  // Per token: its record and its used-marker; per family: its state and chain; per user: the family list.
  assert.ok(peak <= 2 * 8 + 4, `at most ${2 * 8 + 4} keys, saw ${peak}`);
  // A token dropped from the chain is unknown (refused, family kept); a recent used one is a reuse.
  assert.deepEqual(await tokens.rotate(history[0]!), { ok: false, reason: 'unknown' });
  assert.ok((await tokens.rotate(token)).ok, 'the family survives an old token');
  assert.equal(((await tokens.rotate(history[history.length - 3]!)) as { reason?: string }).reason, 'reused');
});

test('a login loop keeps at most familiesPerUser families; the oldest ends', async () => {
  const cache = new MemoryCache('t:');
  const tokens = new RefreshTokens(cache, 7, { familiesPerUser: 5, chainLength: 4 });
  const first = await tokens.issue('ben');
  let peak = 0;
  for (let i = 0; i < 200; i++) {
    await tokens.issue('ben');
    peak = Math.max(peak, cache.size);
  }
  assert.ok(peak <= 5 * 3 + 2, `at most ${5 * 3 + 2} keys, saw ${peak}`);
  assert.equal((await tokens.rotate(first)).ok, false, 'the oldest login was ended');
});

test('every key of a family expires with the family, also when it rotated late in its life', async () => {
  let now = Date.UTC(2026, 0, 1);
  const cache = new MemoryCache('t:', () => now);
  const tokens = new RefreshTokens(cache, 7, { now: () => now });
  const first = await tokens.issue('cy');
  now += 6 * DAY_MS;
  const late = await tokens.rotate(first);
  assert.ok(late.ok);
  now += DAY_MS + 1_000;
  // 'unknown': the record itself expired with the family (a record kept 7 days from its rotation
  // would still be found, and refused only as 'revoked').
  assert.deepEqual(await tokens.rotate(late.token), { ok: false, reason: 'unknown' });
});

test('the memory cache holds at most maxEntries keys, evicting the least recently used', async () => {
  const cache = new MemoryCache('t:', Date.now, 1_000);
  await cache.set('keep', 'me');
  for (let i = 0; i < 5_000; i++) {
    await cache.set(`flood:${i}`, 'x', 3600);
    if (i % 100 === 0) assert.equal(await cache.get('keep'), 'me'); // read: recently used
  }
  assert.ok(cache.size <= 1_000, `size ${cache.size}`);
  assert.ok(cache.evicted >= 4_000);
  assert.equal(await cache.get('keep'), 'me', 'a key in use survives the flood');
  assert.equal(await cache.get('flood:0'), null, 'the oldest unused key was evicted');
  // incr keeps the TTL of an existing key.
  await cache.incr('n', 10);
  assert.equal(await cache.incr('n', 99_999), 2);
});
