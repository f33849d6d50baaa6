/**
 * What the admin system views report about the collector's own storage: the database's size and
 * its tables' (storage/system.repo.ts), and the disk holding the data directory. Transport
 * (http/routes/admin-system.ts) calls this; the route adds what only transport knows (broker,
 * live feed, uptime of this process).
 *
 * Contract:
 * - `databaseBytes()`: bytes of the whole database;
 * - `storage()`: those bytes, per-table sizes largest first (partitions summed into their parent),
 *   and `dataDir` { path, totalBytes, freeBytes } — null when the database is not on local disk
 *   (PostgreSQL) or the directory cannot be examined.
 *
 * @example
 *   const system = new SystemService({ db, dataDir: './data' });
 *   const { database, dataDir } = await system.storage();
 */
import { statfs } from 'node:fs/promises';
import type { Queryable } from '../../storage/db.js';
import { SystemRepo, type TableSize } from '../../storage/system.repo.js';

export type { TableSize };

export interface DiskUsage {
  path: string;
  totalBytes: number;
  freeBytes: number;
}

export interface StorageView {
  database: { bytes: number; tables: TableSize[] };
  dataDir: DiskUsage | null;
}

export interface SystemServiceDeps {
  db: Queryable;
  /** config.dataDir when the database lives there (PGlite); null otherwise. */
  dataDir: string | null;
}

export class SystemService {
  private readonly repo: SystemRepo;

  constructor(private readonly deps: SystemServiceDeps) {
    this.repo = new SystemRepo(deps.db);
  }

  databaseBytes(): Promise<number> {
    return this.repo.size();
  }

  async storage(): Promise<StorageView> {
    const [bytes, tables, dataDir] = await Promise.all([this.repo.size(), this.repo.tables(), this.diskUsage()]);
    return { database: { bytes, tables }, dataDir };
  }

  private async diskUsage(): Promise<DiskUsage | null> {
    const path = this.deps.dataDir;
    if (path === null) return null;
    const fs = await statfs(path).catch(() => null);
    return fs ? { path, totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize } : null;
  }
}
