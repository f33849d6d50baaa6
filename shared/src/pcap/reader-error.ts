/**
 * The one error a reader throws for content: a file that holds nothing readable (empty, too
 * short for its header, or not a capture format we know). Damage AFTER a valid header is never
 * thrown; it becomes a CaptureProblem and every valid packet before it is kept.
 */

/** Why a capture could not be opened at all. */
export type CaptureErrorCode = 'EMPTY' | 'UNKNOWN_FORMAT' | 'TRUNCATED_HEADER' | 'COMPRESSED';

export class CaptureFormatError extends Error {
  readonly code: CaptureErrorCode;
  readonly file: string;

  constructor(file: string, code: CaptureErrorCode, reason: string, options?: ErrorOptions) {
    super(`${file}: ${reason}`, options);
    this.name = 'CaptureFormatError';
    this.code = code;
    this.file = file;
  }
}
