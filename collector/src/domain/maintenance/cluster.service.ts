/**
 * Joining the collectors on one database (docs/operations.md "Several collectors"), once at start:
 *
 * 1. The data directory is locked (`<dataDir>/collector.lock`, storage/lock.ts): one live process
 *    per data directory, so `holder` — `{hostname}:{dataDir}`, this collector in job leases and
 *    periodic-run claims — is unique among the live collectors, and a collector restarted on its
 *    data directory takes its own leases back at once.
 * 2. The results directory is created if missing and must be writable (a probe file is written
 *    and removed): an upload may reach any collector, so every one must be able to store it.
 * 3. It must be the one the other collectors use: the first collector writes
 *    `<results.directory>/.pcapmesh-cluster` (the database's cluster id and a random marker) and
 *    records the marker in the database (`cluster_identity`); every later start checks that the
 *    file is there with the same id and marker. On PostgreSQL a missing or different marker refuses
 *    the start (a directory that is not shared, or one of another database), naming what to fix; on
 *    PGlite only this process can use the database, so the marker is (re)written.
 *
 * Errors are DomainError('invalid') with a message naming `results.directory` or the data directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.js';
import { clusterIdentity, recordResultsMarker, setResultsMarker } from '../../storage/cluster.repo.js';
import { acquireLock, LockedError } from '../../storage/lock.js';
import { DomainError } from '../errors.js';

/** The marker file's name inside results.directory. */
export const CLUSTER_MARKER_FILE = '.pcapmesh-cluster';

export interface ClusterMember {
  /** The database's cluster id. */
  clusterId: string;
  /** This collector in leases and claims: `{hostname}:{dataDir}`. */
  holder: string;
  /** Its MQTT client id on an external broker, stable across restarts (its persistent session): derived from `holder`. */
  mqttClientId: string;
  /** Releases the data directory lock. Idempotent. */
  release(): void;
}

interface MarkerFile {
  cluster: string;
  marker: string;
}

export async function joinCluster(deps: { db: Db; dataDir: string; resultsDir: string; log: Logger }): Promise<ClusterMember> {
  const dataDir = resolve(deps.dataDir);
  mkdirSync(dataDir, { recursive: true });
  let lock;
  try {
    lock = acquireLock(join(dataDir, 'collector.lock'));
  } catch (err) {
    if (err instanceof LockedError) throw new DomainError('invalid', `dataDir ${dataDir}: ${err.message}`, { cause: err });
    throw err;
  }
  try {
    const identity = await clusterIdentity(deps.db);
    checkWritable(deps.resultsDir);
    const marker = await ensureMarker(deps.db, deps.resultsDir, identity.id, identity.resultsMarker);
    deps.log.info({ cluster: identity.id, resultsDirectory: deps.resultsDir, marker: marker.slice(0, 8) }, 'results directory checked');
    const holder = `${hostname()}:${dataDir}`;
    const mqttClientId = `pcapmesh-collector-${createHash('sha256').update(holder).digest('hex').slice(0, 16)}`;
    return { clusterId: identity.id, holder, mqttClientId, release: () => lock.release() };
  } catch (err) {
    lock.release();
    throw err;
  }
}

function checkWritable(dir: string): void {
  const probe = join(dir, `.pcapmesh-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, 'probe');
    unlinkSync(probe);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    throw new DomainError('invalid', `results.directory ${dir} is not writable by this collector (${why}): every collector stores uploads there`, {
      cause: err,
    });
  }
}

/** The marker every collector on this database shares; written or checked as the header says. */
async function ensureMarker(db: Db, dir: string, cluster: string, recorded: string | null): Promise<string> {
  const file = join(dir, CLUSTER_MARKER_FILE);
  const strict = db.kind === 'postgres';
  let found = readMarker(file);
  if (found !== null && found.cluster !== cluster) {
    if (strict) {
      throw new DomainError(
        'invalid',
        `results.directory ${dir} belongs to another database (its ${CLUSTER_MARKER_FILE} names cluster ${found.cluster}; this database is cluster ${cluster}). ` +
          'Collectors on one database share one results directory, and two databases must not share one. ' +
          `If the database was replaced on purpose, delete ${file}.`,
      );
    }
    found = null; // PGlite: a reset or replaced database of this collector alone.
  }
  let wrote = false;
  if (found === null) {
    if (recorded !== null && strict) {
      throw new DomainError(
        'invalid',
        `results.directory ${dir} is not the directory the other collectors on this database use: its ${CLUSTER_MARKER_FILE} is missing ` +
          `(they wrote marker ${recorded.slice(0, 8)}…). Mount the shared results directory there (docs/operations.md "Several collectors"). ` +
          `If this directory replaces the old one on purpose, run on the database: UPDATE cluster_identity SET results_marker = NULL.`,
      );
    }
    const mine: MarkerFile = { cluster, marker: randomBytes(16).toString('hex') };
    wrote = writeMarkerExclusive(file, mine);
    found = wrote ? mine : readMarker(file);
    if (found === null || found.cluster !== cluster)
      throw new DomainError('invalid', `results.directory ${dir}: ${CLUSTER_MARKER_FILE} changed while it was written`);
  }
  if (recorded === found.marker) return found.marker;
  if (!strict) {
    await setResultsMarker(db, found.marker);
    return found.marker;
  }
  if (recorded === null) {
    if (await recordResultsMarker(db, found.marker)) return found.marker;
    if ((await clusterIdentity(db)).resultsMarker === found.marker) return found.marker;
    if (wrote) unlinkQuiet(file, found.marker);
    throw new DomainError(
      'invalid',
      `results.directory ${dir} is not shared with the other collectors on this database: another collector recorded a different marker at the same time. ` +
        'Mount the shared results directory there (docs/operations.md "Several collectors").',
    );
  }
  throw new DomainError(
    'invalid',
    `results.directory ${dir} is not the directory the other collectors on this database use: its ${CLUSTER_MARKER_FILE} holds marker ` +
      `${found.marker.slice(0, 8)}…, the database ${recorded.slice(0, 8)}…. Mount the shared results directory there (docs/operations.md "Several collectors").`,
  );
}

function readMarker(file: string): MarkerFile | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const m = JSON.parse(text) as Partial<MarkerFile>;
    if (typeof m.cluster === 'string' && typeof m.marker === 'string') return { cluster: m.cluster, marker: m.marker };
  } catch {
    /* fall through */
  }
  throw new DomainError('invalid', `${file} is not a pcapmesh cluster marker (expected {"cluster","marker"}); remove it if nothing else wrote it`);
}

/** Creates the marker file only when none exists (link of a finished temp file); false when one did. */
function writeMarkerExclusive(file: string, m: MarkerFile): boolean {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, JSON.stringify(m));
  try {
    linkSync(temp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkQuiet(temp);
  }
}

/** Removes `file` when it still holds `marker` (ours, written before another collector's won). */
function unlinkQuiet(file: string, marker?: string): void {
  try {
    if (marker === undefined || readMarker(file)?.marker === marker) unlinkSync(file);
  } catch {
    /* already gone */
  }
}
