/**
 * The messages between the collector's thread and the embedded database's thread
 * (pglite-thread.ts ⇄ pglite-worker.ts; the protocol is described in pglite-worker.ts), and how an
 * error crosses between them with its SQLSTATE fields intact.
 */

export interface PgliteWorkerData {
  /** Data directory of PGlite, or 'memory://'. */
  where: string;
  /** In-memory instance started from the cached initdb template. */
  memory: boolean;
}

export type PgliteRequest =
  | { id: number; op: 'query'; sql: string; params?: unknown[] | undefined; tx?: number | undefined; begin?: boolean | undefined }
  | { id: number; op: 'exec'; sql: string; tx?: number | undefined; begin?: boolean | undefined }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

/** An error as it crosses the thread boundary: message, name and its own scalar fields (SQLSTATE code…). */
export interface SerializedError {
  message: string;
  name: string;
  props: Record<string, string | number | boolean>;
  cause?: SerializedError | undefined;
}

export type PgliteResponse = { id: number; ok: unknown } | { id: number; error: SerializedError };
export type PgliteStartup = { ready: true } | { failed: SerializedError };

/** An Error (PGlite's DatabaseError included) as plain data; its cause chain up to 3 deep. */
export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { message: String(err), name: 'Error', props: {} };
  const props: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(err)) {
    if (k !== 'cause' && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) props[k] = v;
  }
  const cause = err.cause !== undefined && depth < 3 ? serializeError(err.cause, depth + 1) : undefined;
  return { message: err.message, name: err.name, props, cause };
}

/**
 * The Error a SerializedError describes, with the same message, name and own fields (`code`,
 * `detail`, `constraint`…), so callers test `err.code === '23505'` exactly as on in-process PGlite.
 */
export function deserializeError(s: SerializedError): Error {
  const err = new Error(s.message, s.cause ? { cause: deserializeError(s.cause) } : undefined);
  Object.assign(err, s.props);
  if (s.name !== 'Error') Object.defineProperty(err, 'name', { value: s.name, enumerable: false, writable: true, configurable: true });
  return err;
}
