/**
 * The packet view of a job's merged result (GET /jobs/{id}/packets, /jobs/{id}/packets/{n}):
 * packets decoded on the collector with the PCAP library's decoder (shared/src/pcap/dissect.ts),
 * a page at a time, read positioned through a packet offset index.
 *
 * Contract:
 * - Rights are those of reading the job and its analysis (`JobsApi.get`: 'read', own jobs unless
 *   the role reads all); not_found while the job has no merged result (or after it expired).
 * - The index is `{merged file}.pktidx` beside the result, built by one sequential read the first
 *   time any page is asked for, then reused across requests and restarts; it is deleted with the
 *   job's directory. Concurrent first requests share one build. A result replaced since (a new
 *   merge) is detected by size and mtime, and the index is rebuilt.
 * - `offset` is 0-based; packet numbers (`number`, the `n` of one packet) are 1-based like
 *   Wireshark's "No.". An offset past the last packet → invalid naming `offset`; a number past it
 *   → not_found.
 * - The bytes of a packet (`bytes`, the hex dump) are packet contents: they are given only to a caller
 *   who may download the job's result (roles.ts: its owning analyst or an admin); for anyone else
 *   `bytes` is null and `bytesWithheld` says why. Headers and names (the layers) are shown to every
 *   reader, as the analysis shows talkers and names.
 */
import type { Logger } from '../../log.js';
import { dissectPacket, summarizePacket, type PacketLayer } from '@pcapmesh/shared/pcap/dissect';
import { openPacketIndex, PacketIndexError, type PacketIndex } from '@pcapmesh/shared/pcap/packet-index';
import { timestampToDecimal } from '@pcapmesh/shared/pcap/timestamp';
import type { PacketView, Timestamp } from '@pcapmesh/shared/pcap/types';
import { mayTouchJob, roleAllows, type Actor } from '../accounts/roles.js';
import { invalid, notFound } from '../errors.js';
import type { JobsApi, ResultFile } from './jobs.types.js';

/** One row of the packet list. */
export interface PacketRow {
  /** 1-based, as in Wireshark's "No." column. */
  number: number;
  /** Unix seconds with 9 fraction digits (exact). */
  time: string;
  /** Seconds since the first packet of the result. */
  relative: number;
  /** Length on the wire. */
  length: number;
  /** Bytes captured. */
  captured: number;
  protocol: string;
  source: string;
  destination: string;
  info: string;
}

export interface PacketPage {
  /** Packets in the merged result. */
  total: number;
  offset: number;
  limit: number;
  packets: PacketRow[];
}

export interface PacketDetail extends PacketRow {
  linkType: number;
  layers: PacketLayer[];
  /** The captured bytes, lowercase hex (two digits a byte); null when the caller may not download the job. */
  bytes: string | null;
  /** Why `bytes` is null (else null). */
  bytesWithheld: string | null;
}

export interface PacketsServiceDeps {
  jobs: Pick<JobsApi, 'get'>;
  results: { mergedFile(jobId: string): Promise<ResultFile | null> };
  log: Logger;
}

/** Largest page. */
export const MAX_PACKET_PAGE = 1_000;
/** Indexes kept open in memory (each holds only its header and checkpoints). */
const KEPT = 32;

export class PacketsService {
  private readonly indexes = new Map<string, Promise<PacketIndex>>();
  private readonly log: Logger;

  constructor(private readonly deps: PacketsServiceDeps) {
    this.log = deps.log.child({ component: 'packets' });
  }

  /** Packets `offset` .. `offset + limit - 1` of the job's merged result. */
  async page(actor: Actor, jobId: string, offset: number, limit: number): Promise<PacketPage> {
    if (!Number.isInteger(offset) || offset < 0) throw invalid(`offset: must be a whole number ≥ 0, got ${offset}`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PACKET_PAGE)
      throw invalid(`limit: must be a whole number from 1 to ${MAX_PACKET_PAGE}, got ${limit}`);
    const packets: PacketRow[] = [];
    const total = await this.withIndex(actor, jobId, async (index) => {
      if (offset > index.count) throw invalid(`offset: ${offset} is past the last packet (the result has ${index.count})`);
      packets.length = 0;
      await index.read(offset, limit, (view, n) => packets.push(row(view, n, index.first)));
      return index.count;
    });
    return { total, offset, limit, packets };
  }

  /** Packet number `n` (1-based) with its layers and bytes. */
  async packet(actor: Actor, jobId: string, n: number): Promise<PacketDetail> {
    if (!Number.isInteger(n) || n < 1) throw invalid(`n: must be a packet number ≥ 1, got ${n}`);
    let detail: PacketDetail | null = null;
    await this.withIndex(actor, jobId, async (index, owner) => {
      const mayDownload = roleAllows(actor.role, 'download') && mayTouchJob(actor, { ownerId: owner }, 'download');
      if (n > index.count) throw notFound(`packet ${n} of job ${jobId} (the result has ${index.count})`);
      await index.read(n - 1, 1, (view, i) => {
        detail = {
          ...row(view, i, index.first),
          linkType: view.linkType,
          layers: dissectPacket(view).layers,
          bytes: mayDownload ? Buffer.from(view.data.buffer, view.data.byteOffset, view.caplen).toString('hex') : null,
          bytesWithheld: mayDownload ? null : `packet bytes are shown to those who may download job ${jobId} (its owner or an admin)`,
        };
      });
    });
    if (detail === null) throw notFound(`packet ${n} of job ${jobId}`);
    return detail;
  }

  /** Runs `use` on the job's index; an index gone stale under it (a new merge) is rebuilt once. */
  /** `use` gets the index and the job's owner principal id (ownership is checked on it). */
  private async withIndex<T>(actor: Actor, jobId: string, use: (index: PacketIndex, ownerId: string | null) => Promise<T>): Promise<T> {
    const { ownerId: owner } = await this.deps.jobs.get(actor, jobId);
    for (let attempt = 0; ; attempt++) {
      const file = await this.deps.results.mergedFile(jobId);
      if (file === null) throw notFound(`merged result of job ${jobId}`);
      const index = await this.index(jobId, file.path);
      try {
        return await use(index, owner);
      } catch (err) {
        if (!(err instanceof PacketIndexError) || attempt > 0) throw err;
        this.log.info({ job: jobId, reason: err.message }, 'packet index stale: rebuilding');
        this.indexes.delete(file.path);
      }
    }
  }

  private index(jobId: string, path: string): Promise<PacketIndex> {
    const kept = this.indexes.get(path);
    if (kept) {
      this.indexes.delete(path);
      this.indexes.set(path, kept); // most recently used last
      return kept;
    }
    const started = performance.now();
    const opening = openPacketIndex(path, `${path}.pktidx`).then(
      (index) => {
        this.log.info({ job: jobId, packets: index.count, problems: index.problems.length, ms: Math.round(performance.now() - started) }, 'packet index ready');
        return index;
      },
      (err: unknown) => {
        this.indexes.delete(path);
        throw err;
      },
    );
    this.indexes.set(path, opening);
    while (this.indexes.size > KEPT) this.indexes.delete(this.indexes.keys().next().value as string);
    return opening;
  }
}

function row(view: PacketView, index: number, first: Timestamp): PacketRow {
  const relative = view.sec - first.sec + (view.nsec - first.nsec) / 1e9;
  return {
    number: index + 1,
    time: timestampToDecimal(view),
    relative: Math.round(relative * 1e9) / 1e9,
    length: view.origLen,
    captured: view.caplen,
    ...summarizePacket(view),
  };
}
