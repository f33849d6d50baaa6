import { expect, test } from 'vitest';
import { navFor, type NavItem } from './nav.js';

test('navigation follows the role: an item shows for its role and every role above it', () => {
  const items: NavItem[] = [
    { href: '/', label: 'Fleet', minRole: 'viewer' },
    { href: '/jobs', label: 'Jobs', minRole: 'analyst' },
    { href: '/admin/users', label: 'Users', minRole: 'admin' },
  ];
  expect(navFor('viewer', items).map((i) => i.label)).toEqual(['Fleet']);
  expect(navFor('analyst', items).map((i) => i.label)).toEqual(['Fleet', 'Jobs']);
  expect(navFor('admin', items).map((i) => i.label)).toEqual(['Fleet', 'Jobs', 'Users']);
  expect(navFor('viewer').map((i) => i.href)).toEqual(['/', '/sensors', '/jobs', '/network']);
  expect(navFor('admin').map((i) => i.href)).toEqual([
    '/',
    '/sensors',
    '/jobs',
    '/network',
    '/admin/users',
    '/admin/audit',
    '/admin/logs',
    '/admin/system',
    '/admin/storage',
    '/admin/access',
  ]);
});

test('log levels are named as pino numbers them', async () => {
  const { levelName } = await import('./pages/admin-logs.data.js');
  expect([10, 30, 40, 60].map(levelName)).toEqual(['trace', 'info', 'warn', 'fatal']);
  expect(levelName(35)).toBe('35');
});
