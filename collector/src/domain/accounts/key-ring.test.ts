/**
 * Finding 11 of #14: the JWT and device-cookie keys rotate; what the old key signed stays valid
 * until it expires, and no longer — on PGlite and PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { MemoryCache } from '../../cache/memory.js';
import { loadSecretSet } from '../../storage/auth-secrets.repo.js';
import { forEachDatabase } from '../../testing/databases.js';
import { ACCESS_TOKEN_KEY, AccessTokens } from './access-tokens.js';
import { rotateKey } from './key-ring.js';
import { KnownClients } from './known-clients.js';

forEachDatabase('signing key rotation', (ctx) => {
  test('access tokens: old ones verify until they expire, the running collector signs with the new key within 30 s', async () => {
    let now = Date.now();
    const clock = () => new Date(now);
    const running = await AccessTokens.open({ db: ctx.db, minutes: 15, now: clock });
    const before = await running.issue({ username: 'ana', role: 'analyst' });
    const oldKey = Buffer.from((await loadSecretSet(ctx.db, ACCESS_TOKEN_KEY))!.current, 'base64url');

    assert.equal(await rotateKey(ctx.db, ACCESS_TOKEN_KEY), true);
    const set = (await loadSecretSet(ctx.db, ACCESS_TOKEN_KEY))!;
    assert.equal(set.previous?.value, oldKey.toString('base64url'), 'the old key is kept as the previous one');
    assert.notEqual(set.current, set.previous?.value);

    // A collector started after the rotation signs with the new key and still accepts the old token.
    const restarted = await AccessTokens.open({ db: ctx.db, minutes: 15, now: clock });
    assert.deepEqual(await restarted.verify(before.token), { username: 'ana', role: 'analyst' });
    const after = await restarted.issue({ username: 'ben', role: 'viewer' });
    now += 2_000; // early re-reads are at most one a second
    assert.deepEqual(
      await running.verify(after.token),
      { username: 'ben', role: 'viewer' },
      'a collector that has not re-read its keys yet re-reads them early for an unknown signature',
    );

    // The running collector switches to the new key once its keys are 30 s old.
    now += 31_000;
    const switched = await running.issue({ username: 'cy', role: 'viewer' });
    const byOld = new AccessTokens(oldKey, 15, clock);
    assert.equal(await byOld.verify(switched.token), null, 'signed with the new key');

    // Past the old tokens' lifetime (+ the reload time), a token signed with the old key is refused,
    // however far in the future it says it expires: a leaked old key stops working.
    now += 16 * 60_000;
    const iat = Math.floor(now / 1000);
    const forged = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('mallory')
      .setIssuer('pcapmesh')
      .setAudience('pcapmesh-api')
      .setIssuedAt(iat)
      .setExpirationTime(iat + 3600)
      .sign(oldKey);
    assert.equal(await restarted.verify(forged), null);
    assert.equal(await running.verify(forged), null);
  });

  test('device cookies signed before a rotation are still recognised', async () => {
    const cache = new MemoryCache('k:');
    const known = await KnownClients.open({ db: ctx.db, cache, days: 30 });
    const cookie = await known.remember('ana', '10.0.0.7');
    assert.equal(await rotateKey(ctx.db, 'known-client-hmac'), true);
    const restarted = await KnownClients.open({ db: ctx.db, cache, days: 30 });
    const sources = await restarted.identify('ana', '10.0.0.99', cookie);
    assert.equal(sources.filter((s) => s.startsWith('cookie:')).length, 1);
    const fresh = await restarted.remember('ana', 'unknown');
    assert.equal((await restarted.identify('ana', 'unknown', fresh)).length, 1);
  });
});
