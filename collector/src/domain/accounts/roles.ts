/**
 * Roles and what they may do. Routes declare a permission level (http/auth.ts `permit(level)`);
 * `roleAllows` decides whether a role reaches it:
 *
 *   'public'    anyone, unauthenticated
 *   'read'      viewer, analyst, admin — read sensors, jobs and the fleet
 *   'analyst'   analyst, admin        — submit and cancel jobs (their own; see `mayTouchJob`)
 *   'download'  analyst, admin        — download packets (a viewer never can)
 *   'admin'     admin                 — users, sensors, configuration, the audit log
 *   'task'      no role: only an agent's task upload token for the task the path names
 *               (domain/jobs/task-tokens.ts); no user credential reaches it, and it reaches nothing else
 */
export const ROLES = ['admin', 'analyst', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['public', 'read', 'analyst', 'download', 'admin', 'task'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ALLOWED: Record<Permission, readonly Role[]> = {
  public: ROLES,
  read: ROLES,
  analyst: ['analyst', 'admin'],
  download: ['analyst', 'admin'],
  admin: ['admin'],
  task: [],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` reaches routes declared with `permission`. */
export function roleAllows(role: Role, permission: Permission): boolean {
  return ALLOWED[permission].includes(role);
}

/** The part of an authenticated caller that ownership checks need. */
export interface Actor {
  /** Stable principal id, `user:{id}` or `token:{id}` (http/env.ts Principal.id): what owns jobs. */
  id: string;
  /** Display name: the username, or `token:<label>` for an API token. Shown, never compared for rights. */
  name: string;
  role: Role;
}

/**
 * Job ownership: an admin touches any job; an analyst only the jobs they own — by principal id, so a
 * user or token deleted and re-created under the same name owns none of the old one's jobs; a
 * viewer may read any job (`action: 'read'`) but never submit, cancel or download one. A job of no
 * known principal (`ownerId` null: its owner was gone when ids were introduced) is an admin's only.
 */
export function mayTouchJob(actor: Actor, job: { ownerId: string | null }, action: 'read' | 'cancel' | 'download'): boolean {
  if (actor.role === 'admin') return true;
  if (action === 'read') return true;
  return actor.role === 'analyst' && job.ownerId !== null && job.ownerId === actor.id;
}
