/**
 * The fleet view: every sensor's SensorView in memory (status, last seen, latest health,
 * availability summary, birth fields), so `GET /sensors` and the other readers of the whole fleet
 * answer without a query per request.
 *
 * Contract:
 * - Filled by `load(views)` from the database (SensorService does it on first use, so it is
 *   correct after a collector restart); before that `loaded` is false and readers go to the database.
 * - Kept current by the writers in this process, each after its commit: ingest batches and the
 *   heartbeat sweep (`apply(changes)`), registration (`put(view)`). Changes handed in while
 *   a load is running are applied again after it, in order, so a load that read an older row cannot
 *   undo them (every change carries absolute values, so applying one twice changes nothing).
 * - Writers in other processes (collectors sharing one PostgreSQL) reach it through `put(view,
 *   mark)` of rows read back by SensorService's periodic refresh; a sensor this process changed
 *   after the mark keeps its newer view.
 * - Returned views are never mutated afterwards (a change replaces the sensor's object).
 */
import type { PcapSource } from '@pcapmesh/shared/wire';
import type { SensorStatus, SensorView } from './sensors.types.js';

/** What one committed batch changed on one sensor (absolute values; absent = unchanged). */
export interface FleetChange {
  name: string;
  lastSeen?: Date | null;
  status?: { status: SensorStatus; reason: string | null; since: Date | null };
  birth?: {
    version: string | null;
    hostname: string | null;
    capabilities: string[];
    interfaces: SensorView['interfaces'];
    /** Absent: the birth named no location (the sensor keeps its own). */
    location?: string;
  };
  disks?: unknown[];
  clockOffsetMs?: number | null;
  pcap?: { oldest: string | null; newest: string | null; sources: PcapSource[]; updatedAt: Date };
  /** The newest sample this batch stored (by sending time, then seq). */
  latestHealth?: { at: Date; seq: number; cpu: number; memoryUsed: number; memoryTotal: number; load1: number };
}

interface Entry {
  view: SensorView;
  /** seq of view.latestHealth (to order two samples sent in the same millisecond); -1 unknown. */
  healthSeq: number;
  /** mark() when this process last changed it. */
  changed: number;
}

export class FleetView {
  private readonly entries = new Map<string, Entry>();
  /** Names in order, rebuilt only when a sensor is added. */
  private names: string[] | null = null;
  private loading: FleetChange[] | null = null;
  private isLoaded = false;
  private clock = 0;

  get loaded(): boolean {
    return this.isLoaded;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Marks a load as started: changes from now on are replayed after `load()`. */
  beginLoad(): void {
    this.loading ??= [];
  }

  /** Replaces the whole view with `views` (read after `beginLoad()`), then replays the changes handed in since. */
  load(views: readonly SensorView[]): void {
    this.entries.clear();
    this.names = null;
    for (const view of views) this.entries.set(view.name, { view, healthSeq: -1, changed: 0 });
    const replay = this.loading ?? [];
    this.loading = null;
    this.isLoaded = true;
    this.apply(replay);
  }

  /** Forgets a load that failed (the next reader tries again). */
  abortLoad(): void {
    this.loading = null;
  }

  /** Every sensor, by name. */
  list(): SensorView[] {
    this.names ??= [...this.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.names.map((n) => this.entries.get(n)!.view);
  }

  get(name: string): SensorView | undefined {
    return this.entries.get(name)?.view;
  }

  /** A point in this view's history: a refresh takes one before it reads, and hands it to put(). */
  mark(): number {
    return ++this.clock;
  }

  /**
   * Sets one sensor's whole view (registration, a refresh from the database). With `readAt` (a
   * mark() taken before the view was read), a sensor this process changed since is left alone.
   */
  put(view: SensorView, readAt?: number): void {
    const old = this.entries.get(view.name);
    if (readAt !== undefined && old && old.changed > readAt) return;
    if (!old) this.names = null;
    // A refresh may read a sample older than the one ingest put here; keep the newer.
    const keepHealth = old?.view.latestHealth && (!view.latestHealth || old.view.latestHealth.at > view.latestHealth.at);
    this.entries.set(view.name, {
      view: keepHealth ? { ...view, latestHealth: old.view.latestHealth } : view,
      healthSeq: keepHealth ? old.healthSeq : -1,
      changed: ++this.clock,
    });
  }

  /** Applies committed ingest changes in order; sensors not in the view (registered elsewhere, not refreshed yet) are skipped. */
  apply(changes: readonly FleetChange[]): void {
    if (this.loading) this.loading.push(...changes);
    if (!this.isLoaded) return;
    for (const c of changes) {
      const entry = this.entries.get(c.name);
      if (!entry) continue;
      const v: SensorView = { ...entry.view };
      let healthSeq = entry.healthSeq;
      if (c.lastSeen !== undefined) v.lastSeen = c.lastSeen === null ? null : c.lastSeen.toISOString();
      if (c.status) {
        v.status = c.status.status;
        v.statusReason = c.status.reason;
        v.statusChangedAt = c.status.since === null ? null : c.status.since.toISOString();
      }
      if (c.birth) {
        v.version = c.birth.version;
        v.hostname = c.birth.hostname;
        v.capabilities = c.birth.capabilities;
        v.interfaces = c.birth.interfaces;
        if (c.birth.location !== undefined) v.location = c.birth.location;
      }
      if (c.disks) v.disks = c.disks as SensorView['disks'];
      if (c.clockOffsetMs !== undefined) v.clockOffsetMs = c.clockOffsetMs;
      if (c.pcap) v.pcap = { oldest: c.pcap.oldest, newest: c.pcap.newest, sources: c.pcap.sources, updatedAt: c.pcap.updatedAt.toISOString() };
      const h = c.latestHealth;
      if (h) {
        const at = h.at.toISOString();
        const current = v.latestHealth;
        if (!current || current.at < at || (current.at === at && healthSeq < h.seq)) {
          v.latestHealth = { at, cpu: h.cpu, memoryUsed: h.memoryUsed, memoryTotal: h.memoryTotal, load1: h.load1 };
          healthSeq = h.seq;
        }
      }
      this.entries.set(c.name, { view: v, healthSeq, changed: ++this.clock });
    }
  }
}
