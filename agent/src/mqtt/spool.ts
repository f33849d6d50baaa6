/**
 * Bounded on-disk spool for the agent's QoS 1 messages: every message is appended here first and
 * published from here, so what is produced while the broker is unreachable is delivered after
 * reconnect, in order.
 *
 * Contract:
 * - `append` writes a record (see spool-format.ts) to the current segment file under `dir`
 *   (the files: spool-files.ts).
 * - `takeNext` hands out the unacknowledged records in id order, each once per connection;
 *   `ack(id)` (on PUBACK) retires one; `rewind()` (on disconnect) makes every unacknowledged
 *   record due again, oldest first.
 * - The acknowledged prefix (`ackedThrough`) and the next message sequence number are persisted
 *   in `meta.json` (write + rename), debounced and on close; a crash may therefore re-send a few
 *   acknowledged records (at-least-once; the collector de-duplicates by `seq`), never lose one.
 * - Bound: when the records on disk would exceed `maxBytes`, victims are dropped in this order:
 *   retained records superseded by a newer one on the same topic (latest wins anyway), then the
 *   oldest health records, then the oldest records of any kind. Records in flight are never
 *   dropped. Every drop is counted (`dropped`, reported as health `spoolDropped`) and logged once
 *   per burst; the segments holding victims are rewritten so the disk bound holds.
 * - Crash safety: on open, a torn or damaged record ends its segment, which is truncated there
 *   (the damage is logged). Power loss: appended records reach the disk within `syncDelayMs`
 *   (one fdatasync per burst, group commit; 0 = at every append), and `meta.json` is synced
 *   before it replaces the old one, so it is never found empty.
 * - Full disk (ENOSPC, EDQUOT, EFBIG, EROFS, EIO): nothing throws. A record the disk refuses is
 *   held in memory (under the same `maxBytes` bound, same drop order) and delivered like the
 *   others; a write cut short is truncated away; segments are not deleted or compacted while
 *   `meta.json` cannot be written (so a sequence number is never reused); a refused temporary file
 *   is removed. Logged once per episode. Records still in memory at `close()` are written to the
 *   disk if it has room again, else lost (logged with their count) — the only loss a full disk causes.
 */
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, unlinkSync } from 'node:fs';
import type { Logger } from 'pino';
import { appendRecordBytes, isDiskRefusal, listSegments, readMeta, rewriteSegment, scanSegment, segmentPath, writeMeta } from './spool-files.js';
import { indexOfId, liveBySegment, victimOrder, type Entry, type Segment } from './spool-entries.js';
import { decodeRecord, encodeRecord, type SpoolKind, type SpoolRecord } from './spool-format.js';

export interface SpoolOptions {
  /** Bound of the records on disk, in bytes. */
  maxBytes: number;
  /** Segment size at which a new segment file starts (default maxBytes / 8, 64 KiB … 8 MiB). */
  segmentBytes?: number;
  logger?: Logger;
  /** Delay before persisting the ack pointer after an ack (ms). */
  metaDelayMs?: number;
  /** Most time an appended record stays only in the page cache before an fdatasync (ms; default 1000, 0 = every append). */
  syncDelayMs?: number;
}

export interface SpoolStats {
  /** Unacknowledged records. */
  pending: number;
  /** Bytes of the segment files. */
  bytes: number;
  /** Records dropped because the spool was full, since this process opened it. */
  dropped: number;
  appended: number;
  acked: number;
  /** Unacknowledged records held in memory because the disk refused them. */
  inMemory: number;
}

export class Spool {
  /**
   * Entries in id order from index `head` on (the ones before `head` are retired and dropped from
   * the array now and then); acknowledged ones linger only until the prefix before them is acked.
   * Every operation on the hot path (append, takeNext, ack) is O(1) amortised or O(log n).
   */
  private entries: Entry[] = [];
  private head = 0;
  /** Index in `entries` from which `takeNext` looks for a due record. */
  private cursor = 0;
  private pending = 0;
  private segments: Segment[] = [];
  private fd: number | null = null;
  /** Read descriptor of the segment replayed last (replay reads segment after segment). */
  private reader: { segment: Segment; fd: number } | null = null;
  private nextId = 1;
  private maxSeq = -1;
  private ackedThrough = 0;
  private metaTimer: NodeJS.Timeout | null = null;
  /** Pending group commit of the current segment (appended bytes not yet synced). */
  private syncTimer: NodeJS.Timeout | null = null;
  private dropBurst = 0;
  /** Where records the disk refused live (never in `segments`, no file); `bytes` counts them. */
  private readonly memory: Segment = { no: 0, path: '(memory)', bytes: 0, live: 0 };
  /** The disk error of the current full-disk episode (null while writes succeed). */
  private refusal: string | null = null;
  private readonly segmentBytes: number;
  private readonly counters = { dropped: 0, appended: 0, acked: 0 };
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly opts: SpoolOptions,
  ) {
    this.segmentBytes = opts.segmentBytes ?? Math.min(8 << 20, Math.max(64 << 10, Math.floor(opts.maxBytes / 8)));
  }

  /** Opens (creating if needed) the spool in `dir`, recovering from a torn tail. */
  static open(dir: string, opts: SpoolOptions): Spool {
    const spool = new Spool(dir, opts);
    try {
      mkdirSync(dir, { recursive: true });
      spool.recover();
    } catch (err) {
      throw new Error(`cannot open spool in ${dir}`, { cause: err });
    }
    return spool;
  }

  /** The sequence number the next message must carry (restored across restarts). */
  get nextSeq(): number {
    return this.maxSeq + 1;
  }

  get stats(): SpoolStats {
    return {
      pending: this.pending,
      bytes: this.diskBytes(),
      ...this.counters,
      inMemory: this.memory.live,
    };
  }

  /**
   * Records that `seq` was used by a message that bypasses the spool (birth, shutdown state), so
   * the restored sequence never repeats it.
   */
  noteSeq(seq: number): void {
    if (seq > this.maxSeq) this.maxSeq = seq;
    this.scheduleMeta();
  }

  /** Appends a message; returns its record id, or null when it alone exceeds the bound (counted as dropped). */
  append(msg: { kind: SpoolKind; topic: string; payload: Uint8Array; retain: boolean; seq: number }): number | null {
    this.assertOpen();
    const record: SpoolRecord = { ...msg, id: this.nextId };
    const bytes = encodeRecord(record);
    if (bytes.length > this.opts.maxBytes) {
      this.noteDrops(1, `a ${msg.kind} record of ${bytes.length} bytes exceeds the spool bound`);
      this.noteSeq(msg.seq);
      return null;
    }
    this.makeRoom(bytes.length);
    const seg = this.store(bytes);
    const entry: Entry = {
      id: record.id,
      seq: msg.seq,
      kind: msg.kind,
      topic: msg.topic,
      retain: msg.retain,
      segment: seg,
      offset: seg.bytes,
      size: bytes.length,
      state: 'due',
      ...(seg === this.memory ? { held: bytes } : {}),
    };
    seg.bytes += bytes.length;
    seg.live++;
    this.pending++;
    this.entries.push(entry);
    this.nextId++;
    this.counters.appended++;
    if (msg.seq > this.maxSeq) this.maxSeq = msg.seq;
    return record.id;
  }

  /** The oldest due record, now marked in flight; null when none is due. */
  takeNext(): SpoolRecord | null {
    this.assertOpen();
    if (this.cursor < this.head) this.cursor = this.head;
    while (this.cursor < this.entries.length && this.entries[this.cursor]!.state !== 'due') this.cursor++;
    const entry = this.entries[this.cursor];
    if (!entry) return null;
    entry.state = 'inflight';
    this.cursor++;
    return this.read(entry);
  }

  /** Marks a record delivered (PUBACK received). Unknown or already acked ids are ignored. */
  ack(id: number): void {
    const i = indexOfId(this.entries, this.head, id);
    const entry = this.entries[i];
    if (!entry || entry.state === 'acked') return;
    entry.state = 'acked';
    entry.segment.live--;
    this.release(entry);
    this.pending--;
    this.counters.acked++;
    const before = this.head;
    while (this.head < this.entries.length && this.entries[this.head]!.state === 'acked') this.head++;
    if (this.head === before) return;
    this.ackedThrough = this.entries[this.head - 1]!.id;
    if (this.head > 4096 && this.head * 2 > this.entries.length) this.rebase(this.entries.slice(this.head));
    if (entry.segment.live === 0) this.releaseSegments();
    this.scheduleMeta();
  }

  /** After a disconnect: every record in flight becomes due again, to be re-sent in order. */
  rewind(): void {
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i]!.state === 'inflight') this.entries[i]!.state = 'due';
    this.cursor = this.head;
  }

  /** Persists the ack pointer and closes the segment file (records held in memory: see the contract). */
  close(): void {
    if (this.closed) return;
    if (this.metaTimer) clearTimeout(this.metaTimer);
    this.flushHeld();
    this.writeMeta();
    this.sync();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.closeReader();
    this.closed = true;
  }

  // ── recovery ────────────────────────────────────────────────────────────────────────────────

  private recover(): void {
    const meta = readMeta(this.dir, this.opts.logger);
    this.ackedThrough = meta.ackedThrough;
    this.maxSeq = meta.nextSeq - 1;
    let maxId = meta.ackedThrough;
    for (const file of listSegments(this.dir)) {
      const seg: Segment = { ...file, bytes: 0, live: 0 };
      seg.bytes = scanSegment(
        seg.path,
        (rec, offset, size) => {
          if (rec.seq > this.maxSeq) this.maxSeq = rec.seq;
          if (rec.id > maxId) maxId = rec.id;
          if (rec.id <= this.ackedThrough) return;
          seg.live++;
          this.pending++;
          this.entries.push({ id: rec.id, seq: rec.seq, kind: rec.kind, topic: rec.topic, retain: rec.retain, segment: seg, offset, size, state: 'due' });
        },
        this.opts.logger,
      );
      this.segments.push(seg);
    }
    this.entries.sort((a, b) => a.id - b.id);
    this.nextId = maxId + 1;
    this.releaseSegments(true);
  }

  /** Persists the meta; false (logged) when the disk refuses it. */
  private writeMeta(): boolean {
    try {
      writeMeta(this.dir, { ackedThrough: this.ackedThrough, nextSeq: this.nextSeq });
      return true;
    } catch (err) {
      if (!isDiskRefusal(err)) throw err;
      this.refused(err, 'meta.json');
      return false;
    }
  }

  /** Group commit: one fdatasync of the current segment `syncDelayMs` after the first unsynced append. */
  private scheduleSync(): void {
    const delay = this.opts.syncDelayMs ?? 1000;
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => this.sync(), Math.max(0, delay));
    this.syncTimer.unref();
    if (delay <= 0) this.sync();
  }

  /** Flushes the current segment's appended records to the disk now, if any are unsynced. */
  private sync(): void {
    if (!this.syncTimer) return;
    clearTimeout(this.syncTimer);
    this.syncTimer = null;
    try {
      if (this.fd !== null) fdatasyncSync(this.fd);
    } catch (err) {
      if (!isDiskRefusal(err)) throw err;
      this.refused(err, 'fdatasync');
    }
  }

  private scheduleMeta(delayMs = this.opts.metaDelayMs ?? 250): void {
    if (this.metaTimer || this.closed) return;
    this.metaTimer = setTimeout(() => {
      this.metaTimer = null;
      // Refused by a full disk: tried again every second.
      if (!this.closed && !this.writeMeta()) this.scheduleMeta(1_000);
    }, delayMs);
    this.metaTimer.unref();
  }

  // ── segments ────────────────────────────────────────────────────────────────────────────────

  private startSegment(): Segment {
    this.sync();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    const no = (this.segments.at(-1)?.no ?? 0) + 1;
    const seg: Segment = { no, path: segmentPath(this.dir, no), bytes: 0, live: 0 };
    this.fd = openSync(seg.path, 'a');
    seg.bytes = fstatSync(this.fd).size;
    this.segments.push(seg);
    return seg;
  }

  /** Deletes segments that hold no unretired record (the meta is written first, so ids stay known). */
  private releaseSegments(atOpen = false): void {
    const active = this.segments.at(-1);
    const dead = this.segments.filter((s) => s.live === 0 && (atOpen || s !== active || s.bytes >= this.segmentBytes / 2));
    if (dead.length === 0 || !this.writeMeta()) return;
    this.closeReader();
    for (const seg of dead) {
      if (seg === this.segments.at(-1) && this.fd !== null) {
        closeSync(this.fd);
        this.fd = null;
      }
      unlinkSync(seg.path);
    }
    const gone = new Set(dead);
    this.segments = this.segments.filter((s) => !gone.has(s));
    // Only acknowledged entries can still point into a deleted segment.
    this.rebase(this.entries.slice(this.head).filter((e) => !gone.has(e.segment)));
  }

  /** Replaces the entry list (from `head` on) with `entries`; cursor back to the start. */
  private rebase(entries: Entry[]): void {
    this.entries = entries;
    this.head = 0;
    while (this.head < this.entries.length && this.entries[this.head]!.state === 'acked') this.head++;
    // Everything before head is acknowledged, and what is no longer listed was acked or dropped.
    if (this.head > 0) this.ackedThrough = Math.max(this.ackedThrough, this.entries[this.head - 1]!.id);
    this.cursor = this.head;
  }

  // ── bound ───────────────────────────────────────────────────────────────────────────────────

  /** Drops victims (see the contract) until `incoming` more bytes fit under maxBytes. */
  private makeRoom(incoming: number): void {
    const used = this.diskBytes() + this.memory.bytes;
    if (used + incoming <= this.opts.maxBytes) {
      this.endBurst();
      return;
    }
    let live = 0;
    for (let i = this.head; i < this.entries.length; i++) if (this.entries[i]!.state !== 'acked') live += this.entries[i]!.size;
    if (live + incoming <= this.opts.maxBytes) {
      this.compact();
      return;
    }
    // Free an extra 1/16 of the bound so compaction does not run again on every append.
    const target = this.opts.maxBytes - incoming - Math.floor(this.opts.maxBytes / 16);
    const victims = new Set<Entry>();
    for (const candidate of victimOrder(this.entries, this.head)) {
      if (live <= target) break;
      victims.add(candidate);
      live -= candidate.size;
    }
    if (victims.size > 0) {
      for (const v of victims) {
        v.segment.live--;
        this.release(v);
      }
      this.pending -= victims.size;
      this.rebase(this.entries.slice(this.head).filter((e) => !victims.has(e)));
      this.noteDrops(victims.size, 'spool full');
    }
    this.compact();
  }

  /** Rewrites every segment that holds dropped or acknowledged bytes with only its live records. */
  private compact(): void {
    const liveBySeg = liveBySegment(this.entries, this.head);
    if (!this.writeMeta()) return; // a full disk: the files stay as they are
    this.closeReader();
    this.sync();
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
    const kept: Segment[] = [];
    for (const seg of this.segments) {
      const live = liveBySeg.get(seg) ?? [];
      const liveBytes = live.reduce((n, e) => n + e.size, 0);
      if (liveBytes === seg.bytes) {
        kept.push(seg);
        continue;
      }
      if (live.length === 0) {
        unlinkSync(seg.path);
        continue;
      }
      try {
        seg.bytes = rewriteSegment(seg.path, live);
      } catch (err) {
        if (!isDiskRefusal(err)) throw err;
        this.refused(err, 'compaction'); // the old file stays whole, with its dropped records
      }
      kept.push(seg);
    }
    this.segments = kept;
    // Acknowledged records are gone from disk now; the ack pointer moves on with the next front ack.
    this.rebase(this.entries.slice(this.head).filter((e) => e.state !== 'acked'));
    const last = this.segments.at(-1);
    if (last) {
      this.fd = openSync(last.path, 'a');
    }
  }

  private noteDrops(n: number, why: string): void {
    this.counters.dropped += n;
    if (this.dropBurst === 0) this.opts.logger?.warn({ dropped: n, totalDropped: this.counters.dropped, why }, 'spool: dropping oldest records');
    this.dropBurst += n;
  }

  private endBurst(): void {
    if (this.dropBurst === 0) return;
    this.opts.logger?.warn({ droppedInBurst: this.dropBurst, totalDropped: this.counters.dropped }, 'spool: drop burst over');
    this.dropBurst = 0;
  }

  // ── full disk ───────────────────────────────────────────────────────────────────────────────

  /** Writes a record to the current segment; to memory when the disk refuses it or has no room under the bound. */
  private store(bytes: Buffer): Segment {
    if (this.diskBytes() + bytes.length <= this.opts.maxBytes) {
      try {
        let seg = this.segments.at(-1);
        if (!seg || this.fd === null || (seg.bytes > 0 && seg.bytes + bytes.length > this.segmentBytes)) seg = this.startSegment();
        appendRecordBytes(this.fd!, bytes, seg.bytes);
        this.scheduleSync();
        if (this.refusal !== null) this.opts.logger?.info({ dir: this.dir, heldInMemory: this.memory.live }, 'spool: the disk takes records again');
        this.refusal = null;
        return seg;
      } catch (err) {
        if (!isDiskRefusal(err)) throw err;
        this.refused(err, 'append');
      }
    }
    return this.memory;
  }

  /** Frees the memory of a record held there (acknowledged or dropped). */
  private release(entry: Entry): void {
    if (!entry.held) return;
    this.memory.bytes -= entry.size;
    delete entry.held;
  }

  /** Logs the first refusal of an episode (the next successful append ends it). */
  private refused(err: NodeJS.ErrnoException, op: string): void {
    if (this.refusal !== null) return;
    this.refusal = err.code ?? 'error';
    this.opts.logger?.warn({ dir: this.dir, op, code: err.code }, 'spool: the disk refused a write; records are held in memory until it takes them again');
  }

  /** At close: writes the records held in memory to the disk if it has room now (recovery orders by id). */
  private flushHeld(): void {
    if (this.memory.live === 0) return;
    this.compact(); // bytes of records acknowledged or dropped while the disk was full make room first
    let lost = 0;
    for (const e of this.entries.slice(this.head)) {
      if (!e.held || e.state === 'acked') continue;
      const seg = this.store(e.held);
      if (seg === this.memory) lost++;
      else seg.bytes += e.size;
    }
    if (lost > 0) this.opts.logger?.error({ dir: this.dir, lost }, 'spool: records held in memory could not be written at shutdown (disk full): lost');
  }

  // ── helpers ─────────────────────────────────────────────────────────────────────────────────

  private diskBytes(): number {
    return this.segments.reduce((n, s) => n + s.bytes, 0);
  }

  private read(entry: Entry): SpoolRecord {
    if (entry.held) return (decodeRecord(entry.held, 0) as { record: SpoolRecord }).record;
    const buf = Buffer.allocUnsafe(entry.size);
    if (this.reader?.segment !== entry.segment) {
      this.closeReader();
      this.reader = { segment: entry.segment, fd: openSync(entry.segment.path, 'r') };
    }
    readSync(this.reader.fd, buf, 0, entry.size, entry.offset);
    const r = decodeRecord(buf, 0);
    if ('damage' in r) throw new Error(`spool record ${entry.id} in ${entry.segment.path} is damaged: ${r.damage}`);
    return r.record;
  }

  private closeReader(): void {
    if (this.reader) closeSync(this.reader.fd);
    this.reader = null;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`spool in ${this.dir} is closed`);
  }
}
