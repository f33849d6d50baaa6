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
  expect(navFor('viewer').map((i) => i.href)).toEqual(['/', '/sensors']);
  expect(navFor('admin').map((i) => i.href)).toEqual(['/', '/sensors', '/admin/users', '/admin/audit']);
});
