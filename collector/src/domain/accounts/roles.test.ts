import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayTouchJob, PERMISSIONS, ROLES, roleAllows } from './roles.js';

test('role × permission matrix: viewer reads only, analyst submits and downloads, admin everything', () => {
  const matrix = Object.fromEntries(ROLES.map((role) => [role, PERMISSIONS.filter((p) => roleAllows(role, p))]));
  assert.deepEqual(matrix, {
    admin: ['public', 'read', 'analyst', 'download', 'admin'],
    analyst: ['public', 'read', 'analyst', 'download'],
    viewer: ['public', 'read'],
  });
});

test('job ownership: analysts touch only their own jobs, viewers only read, admins anything', () => {
  const job = { owner: 'ana' };
  assert.equal(mayTouchJob({ name: 'ana', role: 'analyst' }, job, 'cancel'), true);
  assert.equal(mayTouchJob({ name: 'ana', role: 'analyst' }, job, 'download'), true);
  assert.equal(mayTouchJob({ name: 'bob', role: 'analyst' }, job, 'cancel'), false);
  assert.equal(mayTouchJob({ name: 'bob', role: 'analyst' }, job, 'download'), false);
  assert.equal(mayTouchJob({ name: 'bob', role: 'analyst' }, job, 'read'), true);
  assert.equal(mayTouchJob({ name: 'ana', role: 'viewer' }, job, 'download'), false, 'even a viewer named as owner cannot download');
  assert.equal(mayTouchJob({ name: 'vic', role: 'viewer' }, job, 'read'), true);
  assert.equal(mayTouchJob({ name: 'root', role: 'admin' }, job, 'download'), true);
});
