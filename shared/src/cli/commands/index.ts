/** `pcapmesh-pcap index [--json] [--force] [--settle S] PATH...`: build or refresh sidecar indexes. */
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sniffFormat } from '../../pcap/pcap-format.js';
import { DEFAULT_SETTLE_MS, MIN_INDEXED_BYTES, SIDECAR_SUFFIX, isStillBeingWritten, openIndex, sidecarPath, sidecarTempPid } from '../../pcap/sidecar/index.js';
import { UsageError, parseCommandLine, type CliCommand } from '../command.js';

interface Outcome {
  path: string;
  status: 'fresh' | 'built' | 'rebuilt' | 'skipped' | 'error';
  reason?: string;
  blocks?: number;
  packets?: number;
  indexBytes?: number;
  captureBytes?: number;
}

/** True when the file starts like pcap or pcapng (directories hold other files too). */
function looksLikeCapture(path: string): boolean {
  const head = new Uint8Array(4);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, head, 0, 4, 0) === 4 && sniffFormat(head) !== null;
  } finally {
    closeSync(fd);
  }
}

/** Capture files under `path` (itself when a file), recursively, sorted; sidecars and temp files left out. */
function* captureFiles(path: string, explicit: boolean): Generator<string> {
  const stat = statSync(path);
  if (stat.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name.endsWith(SIDECAR_SUFFIX) || sidecarTempPid(name) !== null) continue;
      yield* captureFiles(join(path, name), false);
    }
  } else if (stat.isFile() && (explicit || looksLikeCapture(path))) {
    yield path;
  }
}

function indexOne(path: string, force: boolean, settleMs: number): Outcome {
  const size = statSync(path).size;
  if (size < MIN_INDEXED_BYTES) {
    return { path, status: 'skipped', reason: `small (${size} bytes): read whole, no index needed` };
  }
  if (isStillBeingWritten(path, settleMs)) {
    return { path, status: 'skipped', reason: `modified less than ${settleMs / 1000} s ago: still being written` };
  }
  const result = openIndex(path, { force });
  if (result.persistError) return { path, status: 'error', reason: result.persistError };
  return {
    path,
    status: result.status,
    ...(result.reason ? { reason: result.reason } : {}),
    blocks: result.index.blocks.length,
    packets: result.index.packets,
    indexBytes: statSync(sidecarPath(path)).size,
    captureBytes: result.index.data.capture.size,
  };
}

function describe(o: Outcome): string {
  const size =
    o.indexBytes !== undefined && o.captureBytes
      ? ` (${o.blocks} blocks, ${o.packets} packets, index ${o.indexBytes} bytes = ${((100 * o.indexBytes) / o.captureBytes).toFixed(2)} %)`
      : '';
  return `${o.status.padEnd(7)} ${o.path}${size}${o.reason ? `: ${o.reason}` : ''}`;
}

export const command: CliCommand = {
  summary: 'build or refresh the sidecar index (.pmidx) of capture files',
  usage: `usage: pcapmesh-pcap index [--json] [--force] [--settle SECONDS] PATH...

Builds <capture>.pmidx beside each capture (directories are walked recursively; files that are
not pcap/pcapng are ignored there). A fresh index is kept; a stale one (capture size, mtime or
head changed) or a corrupt one is rebuilt. Files modified within the last --settle seconds
(default ${DEFAULT_SETTLE_MS / 1000}) are still being written and are skipped, and so are files under
${MIN_INDEXED_BYTES / 1024 / 1024} MiB (read whole faster than any index helps).
  --force     rebuild even fresh indexes
  --json      one JSON object per file, as an array
Exit status 1 when some file could not be indexed.`,
  run(args) {
    const { values, positionals } = parseCommandLine(args, {
      json: { type: 'boolean' },
      force: { type: 'boolean' },
      settle: { type: 'string' },
    });
    if (positionals.length === 0) throw new UsageError('no PATH given');
    const settle = values.settle === undefined ? DEFAULT_SETTLE_MS / 1000 : Number(values.settle);
    if (!Number.isFinite(settle) || settle < 0) throw new UsageError(`--settle must be a number of seconds, not "${values.settle}"`);
    const outcomes: Outcome[] = [];
    for (const root of positionals) {
      try {
        for (const path of captureFiles(root, true)) {
          let outcome: Outcome;
          try {
            outcome = indexOne(path, values.force ?? false, settle * 1000);
          } catch (error) {
            outcome = { path, status: 'error', reason: (error as Error).message };
          }
          outcomes.push(outcome);
          if (!values.json) (outcome.status === 'error' ? console.error : console.log)(describe(outcome));
        }
      } catch (error) {
        const outcome: Outcome = { path: root, status: 'error', reason: (error as Error).message };
        outcomes.push(outcome);
        if (!values.json) console.error(describe(outcome));
      }
    }
    if (values.json) console.log(JSON.stringify(outcomes, null, 2));
    return outcomes.some((o) => o.status === 'error') ? 1 : 0;
  },
};
