/**
 * The Hono environment of the collector's HTTP app: what middleware puts on the context for the
 * handlers after it.
 */
import type { Logger } from 'pino';
import type { RequestIdVariables } from 'hono/request-id';
import type { Role } from '../domain/accounts/roles.js';
import type { TaskTokenClaims } from '../domain/jobs/task-tokens.js';

/** Who made the request, once authenticated: a user (access JWT) or an integrator's API token. */
export interface Principal {
  kind: 'api-token' | 'user';
  /**
   * Stable id: `user:{users.id}` or `token:{api_tokens.id}`. What owns jobs (a user or token deleted
   * and re-created under the same name is another principal).
   */
  id: string;
  /** Username, or the token's label; safe to log (never the token itself). */
  name: string;
  /** Decides which permission levels it reaches (domain/accounts/roles.ts). */
  role: Role;
}

export type AppEnv = {
  Variables: RequestIdVariables & {
    /** The request's logger: every line carries its request id. */
    log: Logger;
    principal?: Principal;
    /** On 'task' routes: the verified task upload token's claims (never a principal). */
    task?: TaskTokenClaims;
  };
};
