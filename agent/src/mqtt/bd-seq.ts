/**
 * The birth/death sequence (Sparkplug B `bdSeq`): incremented and persisted on every connect
 * attempt, carried by that session's birth and last will, so the collector can tell a stale will
 * (lower bdSeq) from the death of the current session.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class BdSeqStore {
  private current: number;

  /** Reads the last value from `file` (0 when the file does not exist yet). */
  constructor(private readonly file: string) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read bdSeq from ${file}`, { cause: err });
    }
    const n = text === '' ? 0 : Number(text);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${file} holds ${JSON.stringify(text)}, not a bdSeq (a non-negative integer)`);
    this.current = n;
  }

  /** The value of the latest session (the one in its birth and will). */
  get value(): number {
    return this.current;
  }

  /** Increments, persists (write + rename) and returns the new session's bdSeq. */
  next(): number {
    this.current++;
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, `${this.current}\n`);
    renameSync(`${this.file}.tmp`, this.file);
    return this.current;
  }
}
