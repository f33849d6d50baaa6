/**
 * The merge of a job's results, run in a worker thread (ResultsService keeps it for the next merge:
 * loading the PCAP library into a fresh thread costs ~0.4 s) so the synchronous PCAP library never
 * blocks the collector's event loop.
 *
 * Given the task result files, it
 *   1. merges them in time order with duplicates across sensors removed (mergeReaders, dedup
 *      window DEFAULT_DEDUP_WINDOW_NS) into `{job}/merged.tmp`, and in the same pass hashes the
 *      bytes it writes and analyses the packets it writes (the library's Analyzer, the report
 *      naming the download name) — one read of the inputs, no read of the output;
 *      While it writes, every WRITEBACK_BYTES it asks the thread pool for an fdatasync of what is
 *      written so far (not waited for): the disk writes the file while the merge goes on, and the
 *      final fsync finds little left (it was ~30 ms of a 45 MB merge's end, all waiting);
 *   2. fsyncs `merged.tmp` and renames it to `merged.pcap` or `merged.pcapng` (by the format the
 *      merge chose), removing the other name if an earlier merge left it, and fsyncs the directory
 *      — so a half-written merge is never under a name that is served, and running it again after
 *      a kill simply starts over.
 * In: one `MergeWorkerInput` message per merge (the next only after the answer). Out: one
 * `{ ok: MergeWorkerResult }` or `{ error }` message per input; the thread then waits for the next.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fdatasync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import {
  Analyzer,
  chooseFormat,
  decodePacket,
  DEFAULT_DEDUP_WINDOW_NS,
  FileSink,
  mergeReaders,
  newDecodedPacket,
  openCapture,
  PcapngWriter,
  PcapWriter,
  type AnalysisReport,
  type ByteSink,
  type CaptureProblem,
  type CaptureReader,
  type PacketWriter,
} from '@pcapmesh/shared/pcap';

export interface MergeWorkerInput {
  /** Absolute paths of the task results, in sensor order. */
  inputs: string[];
  /** Absolute path of the job's directory. */
  jobDir: string;
  /** Download names by extension (the analysis names the merged file by it). */
  fileNames: { pcap: string; pcapng: string };
  /** Bytes written between early writeback requests (default WRITEBACK_BYTES). */
  writebackBytes?: number;
}

export interface MergeWorkerResult {
  /** Relative to jobDir: merged.pcap or merged.pcapng. */
  file: 'merged.pcap' | 'merged.pcapng';
  format: 'pcap' | 'nsecpcap' | 'pcapng';
  packets: number;
  bytes: number;
  duplicates: number;
  fileBytes: number;
  sha256: string;
  analysis: AnalysisReport;
  problems: CaptureProblem[];
}

export type MergeWorkerMessage = { ok: MergeWorkerResult } | { error: string };

const TEMP = 'merged.tmp';

/** Read buffer per input: the inputs are read once, start to end. */
const READ_BUFFER = 1024 * 1024;

/** Written bytes between two early writeback requests (see the module comment). */
const WRITEBACK_BYTES = 8 * 1024 * 1024;

export async function runMerge(input: MergeWorkerInput): Promise<MergeWorkerResult> {
  const temp = join(input.jobDir, TEMP);
  rmSync(temp, { force: true });
  const readers: CaptureReader[] = [];
  // The early writebacks in flight: the descriptor is closed only once they have all answered.
  const writebacks: Promise<void>[] = [];
  let fd: number | null = null;
  try {
    for (const path of input.inputs) readers.push(openCapture(path, { bufferSize: READ_BUFFER }));
    const format = chooseFormat(readers, 'auto');
    const ext = format === 'pcapng' ? 'pcapng' : 'pcap';
    fd = openSync(temp, 'w', 0o640);
    const out = fd;
    const sink = new HashingSink(new FileSink(out), input.writebackBytes ?? WRITEBACK_BYTES, () =>
      writebacks.push(new Promise((resolve) => fdatasync(out, () => resolve()))),
    );
    const nanosecond = readers.some((r) => r.nanosecond);
    const writer =
      format === 'pcapng'
        ? new PcapngWriter(sink, { nanosecond })
        : new PcapWriter(sink, { linkType: readers[0]?.linkTypes[0] ?? 1, nanosecond: format === 'nsecpcap' });
    const analyzer = new Analyzer();
    let stats;
    try {
      stats = mergeReaders(readers, analysing(writer, analyzer), { dedup: true, dedupWindowNs: DEFAULT_DEDUP_WINDOW_NS });
    } finally {
      writer.close();
    }
    fsyncSync(out);
    await Promise.all(writebacks);
    closeSync(out);
    fd = null;
    const file = `merged.${ext}` as const;
    const final = join(input.jobDir, file);
    rmSync(join(input.jobDir, ext === 'pcap' ? 'merged.pcapng' : 'merged.pcap'), { force: true });
    renameSync(temp, final);
    syncPath(dirname(final));
    return {
      file,
      format,
      packets: stats.packets,
      bytes: stats.bytes,
      duplicates: stats.duplicates,
      fileBytes: sink.bytes,
      sha256: sink.digest(),
      // What analyzeFiles([merged file]) would report, without reading it back.
      analysis: analyzer.report({ files: [input.fileNames[ext]], problems: [] }),
      problems: stats.problems,
    };
  } finally {
    for (const r of readers) r.close();
    if (fd !== null) {
      await Promise.all(writebacks);
      closeSync(fd);
    }
  }
}

/** The writer, also feeding every packet it writes (as written: dedup is before it) to the analyser. */
function analysing(writer: PacketWriter, analyzer: Analyzer): PacketWriter {
  const decoded = newDecodedPacket();
  return {
    write(packet, snaplen) {
      writer.write(packet, snaplen);
      analyzer.add(packet, decodePacket(packet, decoded));
    },
    close: () => writer.close(),
    get packets() {
      return writer.packets;
    },
  };
}

/** A sink that hashes (SHA-256) and counts the bytes it passes on, calling `every` after each `everyBytes` of them. */
class HashingSink implements ByteSink {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private mark: number;

  constructor(
    private readonly inner: ByteSink,
    private readonly everyBytes: number,
    private readonly every: () => void,
  ) {
    this.mark = everyBytes;
  }

  write(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.inner.write(chunk);
    this.bytes += chunk.length;
    if (this.bytes >= this.mark) {
      this.mark = this.bytes + this.everyBytes;
      this.every();
    }
  }

  close(): void {
    this.inner.close();
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', async (input: MergeWorkerInput) => {
    let message: MergeWorkerMessage;
    try {
      message = { ok: await runMerge(input) };
    } catch (err) {
      message = { error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(message);
  });
}
