/**
 * Errors the domain raises. Each carries a `code`; the transport layers map codes to their own
 * vocabulary once (http/errors.ts: not_found → 404, ...). The domain never throws HTTP errors.
 */

export const DOMAIN_ERROR_CODES = ['not_found', 'invalid', 'conflict', 'unauthenticated', 'forbidden', 'unavailable', 'throttled'] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  /**
   * @param code what kind of failure this is; decides the HTTP status.
   * @param message a sentence safe to show to the caller (no secrets, no SQL).
   * @param options `cause` keeps the underlying error for logs.
   */
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
  }
}

/** True when `err` is a DomainError, optionally of the given code. */
export function isDomainError(err: unknown, code?: DomainErrorCode): err is DomainError {
  return err instanceof DomainError && (code === undefined || err.code === code);
}

export const notFound = (what: string): DomainError => new DomainError('not_found', `${what} not found`);
export const invalid = (message: string): DomainError => new DomainError('invalid', message);
export const conflict = (message: string): DomainError => new DomainError('conflict', message);
