/**
 * Where writers put bytes: a file (sync writes of big chunks) or memory (tests, uploads).
 * Writers buffer themselves and hand the sink large chunks.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export interface ByteSink {
  /** Takes `chunk` now; the caller may reuse the chunk's memory after the call returns. */
  write(chunk: Uint8Array): void;
  close(): void;
}

/** Writes to a file (created or truncated), synchronously. */
export class FileSink implements ByteSink {
  private fd: number | null;
  /** Bytes written so far. */
  bytes = 0;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (cause) {
      throw new Error(`${path}: cannot create output: ${(cause as Error).message}`, { cause });
    }
  }

  write(chunk: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path}: write after close`);
    for (let done = 0; done < chunk.length; ) {
      done += writeSync(this.fd, chunk, done, chunk.length - done);
    }
    this.bytes += chunk.length;
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** Collects everything in memory; `bytes()` returns one contiguous copy. */
export class MemorySink implements ByteSink {
  private readonly chunks: Uint8Array[] = [];

  write(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice());
  }

  close(): void {}

  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
