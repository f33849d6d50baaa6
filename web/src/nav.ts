/**
 * The navigation, filtered by role: an item shows for its `minRole` and every role above it
 * (viewer < analyst < admin).
 */
import type { Role } from './api/types.js';

export const ROLE_RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

export interface NavItem {
  href: string;
  label: string;
  minRole: Role;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { href: '/', label: 'Fleet', minRole: 'viewer' },
  { href: '/sensors', label: 'Sensors', minRole: 'viewer' },
  { href: '/jobs', label: 'Jobs', minRole: 'viewer' },
  { href: '/network', label: 'Network', minRole: 'viewer' },
  { href: '/admin/users', label: 'Users', minRole: 'admin' },
  { href: '/admin/audit', label: 'Audit log', minRole: 'admin' },
  { href: '/admin/logs', label: 'Logs', minRole: 'admin' },
  { href: '/admin/system', label: 'System', minRole: 'admin' },
  { href: '/admin/storage', label: 'Storage', minRole: 'admin' },
  { href: '/admin/access', label: 'Access', minRole: 'admin' },
];

export function navFor(role: Role, items: readonly NavItem[] = NAV_ITEMS): NavItem[] {
  return items.filter((i) => ROLE_RANK[role] >= ROLE_RANK[i.minRole]);
}
