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

/** Something to wait on for a few milliseconds without spinning. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes synchronously to a file (created or truncated) or to an open descriptor (e.g. 1 for
 * stdout), which the caller keeps owning: `close()` closes only descriptors it opened.
 */
export class FileSink implements ByteSink {
  private fd: number | null;
  private readonly owned: boolean;
  readonly path: string;
  /** Bytes written so far. */
  bytes = 0;

  constructor(target: string | number) {
    this.path = typeof target === 'number' ? `fd ${target}` : target;
    this.owned = typeof target === 'string';
    if (typeof target === 'number') {
      this.fd = target;
      return;
    }
    try {
      this.fd = openSync(target, 'w');
    } catch (cause) {
      throw new Error(`${target}: cannot create output: ${(cause as Error).message}`, { cause });
    }
  }

  write(chunk: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path}: write after close`);
    for (let done = 0; done < chunk.length;) {
      try {
        done += writeSync(this.fd, chunk, done, chunk.length - done);
      } catch (error) {
        // A non-blocking pipe (stdout) that is full: wait a moment for the reader, then retry.
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        Atomics.wait(PAUSE, 0, 0, 2);
      }
    }
    this.bytes += chunk.length;
  }

  close(): void {
    if (this.fd !== null && this.owned) closeSync(this.fd);
    this.fd = null;
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
