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

test('job ownership: analysts touch only their own jobs (by principal id), viewers only read, admins anything', () => {
  const job = { ownerId: 'user:7' };
  assert.equal(mayTouchJob({ id: 'user:7', name: 'ana', role: 'analyst' }, job, 'cancel'), true);
  assert.equal(mayTouchJob({ id: 'user:7', name: 'ana', role: 'analyst' }, job, 'download'), true);
  assert.equal(mayTouchJob({ id: 'user:8', name: 'bob', role: 'analyst' }, job, 'cancel'), false);
  assert.equal(mayTouchJob({ id: 'user:8', name: 'bob', role: 'analyst' }, job, 'download'), false);
  assert.equal(mayTouchJob({ id: 'user:8', name: 'bob', role: 'analyst' }, job, 'read'), true);
  assert.equal(mayTouchJob({ id: 'user:9', name: 'ana', role: 'analyst' }, job, 'cancel'), false, 'ana deleted and re-created is another principal');
  assert.equal(mayTouchJob({ id: 'token:7', name: 'token:ana', role: 'analyst' }, job, 'cancel'), false, 'a token with the same number is not the user');
  assert.equal(mayTouchJob({ id: 'user:7', name: 'ana', role: 'viewer' }, job, 'download'), false, 'even a viewer who owns it cannot download');
  assert.equal(mayTouchJob({ id: 'user:10', name: 'vic', role: 'viewer' }, job, 'read'), true);
  assert.equal(mayTouchJob({ id: 'user:1', name: 'root', role: 'admin' }, job, 'download'), true);
  assert.equal(mayTouchJob({ id: 'user:7', name: 'ana', role: 'analyst' }, { ownerId: null }, 'cancel'), false, 'a job of a gone owner is an admin’s only');
  assert.equal(mayTouchJob({ id: 'user:1', name: 'root', role: 'admin' }, { ownerId: null }, 'cancel'), true);
});
