/**
 * The Hono environment of the collector's HTTP app: what middleware puts on the context for the
 * handlers after it.
 */
import type { Logger } from 'pino';
import type { RequestIdVariables } from 'hono/request-id';

/** Who made the request, once authenticated. Until users and roles land, only API tokens exist. */
export interface Principal {
  kind: 'api-token';
  /** Token label, safe to log (never the token itself). */
  name: string;
}

export type AppEnv = {
  Variables: RequestIdVariables & {
    /** The request's logger: every line carries its request id. */
    log: Logger;
    principal?: Principal;
  };
};
