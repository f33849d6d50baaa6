import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { openDb, type Db } from '../../storage/db.js';
import { migrate } from '../../storage/migrate.js';
import { AccessTokens } from '../accounts/access-tokens.js';
import { isDomainError } from '../errors.js';
import { TASK_TOKEN_SECRET_NAME, TaskTokens } from './task-tokens.js';

let db: Db;
let tokens: TaskTokens;
let key: Uint8Array;
const subject = { taskId: 't-1', jobId: '0b7e6f5c-1f0a-4d7e-9b1e-3c3a9f2d8e01', sensor: 'edge-1' };
const inAnHour = () => new Date(Date.now() + 3_600_000);

before(async () => {
  db = await openDb({ url: 'memory://' });
  await migrate(db);
  tokens = await TaskTokens.open({ db });
  const [row] = await db.query<{ value: string }>('SELECT value FROM auth_secrets WHERE name = $1', [TASK_TOKEN_SECRET_NAME]);
  key = Buffer.from(row!.value, 'base64url');
});
after(() => db.close());

const refusedWith = (code: string, message: RegExp) => (err: unknown) => isDomainError(err) && err.code === code && message.test(err.message);

test('a token verifies for its own task and carries task, job, sensor and expiry', async () => {
  const expiresAt = inAnHour();
  const token = await tokens.issue(subject, expiresAt);
  const claims = await tokens.verify(token, 't-1');
  assert.deepEqual(claims, { ...subject, expiresAt: new Date(Math.floor(expiresAt.getTime() / 1000) * 1000) });
});

test('the key is made once and kept: a second opener on the same database verifies the first one’s tokens', async () => {
  const again = await TaskTokens.open({ db });
  const token = await tokens.issue(subject, inAnHour());
  assert.equal((await again.verify(token, 't-1')).taskId, 't-1');
  const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM auth_secrets WHERE name = $1', [TASK_TOKEN_SECRET_NAME]);
  assert.equal(rows[0]!.n, 1);
});

test("another task's token is forbidden, not unauthenticated", async () => {
  const token = await tokens.issue({ ...subject, taskId: 't-2' }, inAnHour());
  await assert.rejects(tokens.verify(token, 't-1'), refusedWith('forbidden', /another task, not t-1/));
});

test('an expired token is refused as unauthenticated, naming the expiry', async () => {
  let now = new Date('2026-01-01T00:00:00Z');
  const clocked = new TaskTokens(key, () => now);
  const token = await clocked.issue(subject, new Date('2026-01-01T00:10:00Z'));
  assert.equal((await clocked.verify(token, 't-1')).sensor, 'edge-1');
  now = new Date('2026-01-01T00:10:01Z');
  await assert.rejects(clocked.verify(token, 't-1'), refusedWith('unauthenticated', /expired/));
  await assert.rejects(clocked.issue(subject, new Date('2026-01-01T00:00:00Z')), /not after now/);
});

test('a token signed with our key but another scope, or another audience, is refused', async () => {
  const sign = (claims: Record<string, unknown>, audience: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('t-1').setIssuer('pcapmesh').setAudience(audience).setExpirationTime('1h').sign(key);
  const wrongScope = await sign({ job: subject.jobId, sensor: 'edge-1', scope: 'admin' }, 'pcapmesh-task-upload');
  await assert.rejects(tokens.verify(wrongScope, 't-1'), refusedWith('unauthenticated', /invalid task token/));
  const noScope = await sign({ job: subject.jobId, sensor: 'edge-1' }, 'pcapmesh-task-upload');
  await assert.rejects(tokens.verify(noScope, 't-1'), refusedWith('unauthenticated', /invalid/));
  const userAudience = await sign({ job: subject.jobId, sensor: 'edge-1', scope: 'task-upload' }, 'pcapmesh-api');
  await assert.rejects(tokens.verify(userAudience, 't-1'), refusedWith('unauthenticated', /invalid/));
});

test('user access tokens and task tokens never pass for each other; a tampered token is refused', async () => {
  const access = await AccessTokens.open({ db, minutes: 15 });
  const { token: userToken } = await access.issue({ username: 'ana', role: 'admin' });
  await assert.rejects(tokens.verify(userToken, 't-1'), refusedWith('unauthenticated', /invalid/));
  const taskToken = await tokens.issue(subject, inAnHour());
  assert.equal(await access.verify(taskToken), null);
  const [h, p, s] = taskToken.split('.') as [string, string, string];
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 't-9' })).toString('base64url');
  await assert.rejects(tokens.verify(`${h}.${forged}.${s}`, 't-9'), refusedWith('unauthenticated', /invalid/));
  await assert.rejects(tokens.verify('not a token', 't-1'), refusedWith('unauthenticated', /invalid/));
});
