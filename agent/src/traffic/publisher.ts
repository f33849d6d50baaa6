/**
 * Publishes closed capture files' traffic summaries on `sensors/{name}/traffic` through the
 * outbox (QoS 1, spooled: nothing is lost while the collector is away), and remembers which
 * files were published in `<stateDir>/traffic/published.json`, so a restart neither publishes a
 * file twice nor skips one. It is the indexer's `traffic` hooks (pcap/indexer.ts).
 *
 * Contract (docs/mqtt.md, "Traffic"):
 * - One file's summary = one or more messages per minute it has IP packets in: intervalStart =
 *   the minute (ms), intervalSeconds = 60, `part` = partId(source, path) (stable for the file),
 *   at most FLOWS_PER_MESSAGE flows each (a minute of up to maxPairsPerMinute rows is split; the
 *   parts never repeat a pair). The collector sums parts by (sensor, minute, pair).
 * - Which files: a closed capture (the indexer decides) whose identity (size, mtime) has not been
 *   published yet, and that closed after the ledger was created (`since`: the first start with
 *   traffic enabled) — older files, indexed before this feature, are read only with `backfill`.
 * - Order of effects: the messages are appended to the spool, then the ledger is written (temp +
 *   rename). A crash in between sends the file again at the next start; the collector drops the
 *   repeated rows (same part and pair). A file changed after it was published (size or mtime) is
 *   published again under the same part; the collector keeps the rows it already had.
 * - The ledger forgets files their source no longer lists, and sources no longer configured. A missing or unreadable ledger starts
 *   a new one with `since` = now (logged), so no old file is published in bulk by accident.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Body } from '@pcapmesh/shared/wire';
import type { ListedCapture } from '../pcap/availability.js';
import type { IndexTraffic, IndexedFile } from '../pcap/indexer.js';
import type { FileTraffic, TrafficSettings } from './summary.js';

/** Most flows in one traffic message (~100 KB of CBOR, well under the 256 KiB payload limit). */
export const FLOWS_PER_MESSAGE = 1000;
export const INTERVAL_SECONDS = 60;

export interface TrafficSink {
  send(channel: 'traffic', body: Body<'traffic'>): void;
}

export interface TrafficPublisherOptions {
  /** The agent's state directory; the ledger lives in `<stateDir>/traffic/`. */
  stateDir: string;
  settings: TrafficSettings;
  /** Also publish files that closed before the ledger was created (indexed before this feature). */
  backfill: boolean;
  sink: TrafficSink;
  logger: Logger;
  now?: () => number;
  /** The configured capture sources: the ledger forgets the files of any other (a source removed from the config). */
  sources?: readonly string[];
}

interface Ledger {
  version: 1;
  /** Files whose last change is older than this (ms) predate the feature: only backfill reads them. */
  since: number;
  /** source → path → "size:mtimeMs" of the published identity. */
  published: Record<string, Record<string, string>>;
}

/** The `part` of a file's messages: 16 hex digits of SHA-256 over the source name and the file path. */
export function partId(source: string, path: string): string {
  return createHash('sha256').update(`${source}\0${path}`).digest('hex').slice(0, 16);
}

export class TrafficPublisher implements IndexTraffic {
  readonly settings: TrafficSettings;
  private readonly file: string;
  private readonly ledger: Ledger;

  constructor(private readonly opts: TrafficPublisherOptions) {
    this.settings = opts.settings;
    const dir = join(opts.stateDir, 'traffic');
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'published.json');
    this.ledger = this.load();
    const sources = opts.sources;
    if (sources) {
      const gone = Object.keys(this.ledger.published).filter((s) => !sources.includes(s));
      for (const s of gone) delete this.ledger.published[s];
      if (gone.length > 0) this.save();
    }
  }

  /** Files published so far, per source (for tests and diagnostics). */
  publishedFiles(source: string): string[] {
    return Object.keys(this.ledger.published[source] ?? {}).sort();
  }

  listed(source: string, captures: readonly ListedCapture[]): void {
    const known = this.ledger.published[source];
    if (!known) return;
    const present = new Set(captures.map((c) => c.path));
    let changed = false;
    for (const path of Object.keys(known)) {
      if (!present.has(path)) {
        delete known[path];
        changed = true;
      }
    }
    if (changed) this.save();
  }

  wants(source: string, c: ListedCapture): boolean {
    if (this.ledger.published[source]?.[c.path] === identity(c.bytes, c.mtimeMs)) return false;
    return this.opts.backfill || c.mtimeMs >= this.ledger.since;
  }

  summarised(file: IndexedFile, traffic: FileTraffic): void {
    const part = partId(file.source, file.path);
    let messages = 0;
    for (const minute of traffic.minutes) {
      for (let i = 0; i < minute.flows.length; i += FLOWS_PER_MESSAGE) {
        this.opts.sink.send('traffic', {
          intervalStart: minute.intervalStart,
          intervalSeconds: INTERVAL_SECONDS,
          part,
          flows: minute.flows.slice(i, i + FLOWS_PER_MESSAGE),
        });
        messages++;
      }
    }
    (this.ledger.published[file.source] ??= {})[file.path] = identity(file.size, file.mtimeMs);
    this.save();
    this.opts.logger.info(
      { source: file.source, file: file.path, part, minutes: traffic.minutes.length, messages, packets: traffic.packets, skipped: traffic.skipped },
      'traffic: summary published',
    );
  }

  private load(): Ledger {
    const fresh = (): Ledger => ({ version: 1, since: (this.opts.now ?? Date.now)(), published: {} });
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.opts.logger.warn({ err, file: this.file }, 'traffic: cannot read the ledger; starting a new one');
      return this.saved(fresh());
    }
    try {
      const v = JSON.parse(text) as Partial<Ledger>;
      if (v.version !== 1 || typeof v.since !== 'number' || typeof v.published !== 'object' || v.published === null) throw new Error('not a version 1 ledger');
      return { version: 1, since: v.since, published: v.published };
    } catch (err) {
      this.opts.logger.warn({ err, file: this.file }, 'traffic: the ledger is damaged; starting a new one (files closed before now are not published)');
      return this.saved(fresh());
    }
  }

  private saved(ledger: Ledger): Ledger {
    this.write(ledger);
    return ledger;
  }

  private save(): void {
    this.write(this.ledger);
  }

  private write(ledger: Ledger): void {
    const temp = `${this.file}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(ledger));
      renameSync(temp, this.file);
    } catch (err) {
      // Not fatal: at worst files are published again after a restart (the collector drops repeats).
      this.opts.logger.error({ err, file: this.file }, 'traffic: cannot save the ledger');
    }
  }
}

function identity(size: number, mtimeMs: number): string {
  return `${size}:${mtimeMs}`;
}
