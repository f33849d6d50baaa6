/**
 * One transaction for a batch of state, health and availability messages of many sensors
 * (SensorIngest batches them with domain/batcher.ts). The ordering rules are those of
 * sensor-ingest.ts, applied to the messages in the order given, in memory, against the sensor rows
 * read under lock; the database then gets a fixed handful of multi-row statements whatever the
 * batch's size:
 *
 *   lock the batch's sensors (id order) · managed devices of the health messages' sensors ·
 *   all health samples (one INSERT … ON CONFLICT DO NOTHING: the replays are the rows not returned) ·
 *   births only: location, birth fields, devices (each birth a few statements of its own, as before) ·
 *   device health (≤ 2 UPDATEs) · the sensors whose fields changed (one UPDATE) · status history (one INSERT)
 *
 * What the batch did (outcomes, events, the fleet view's changes) is returned for the caller to
 * publish after the commit; nothing here emits.
 */
import type { HealthMessage, PcapMessage, SensorStatusEvent, StateMessage } from '@pcapmesh/shared/wire';
import type { Logger } from '../../log.js';
import type { Queryable } from '../../storage/db.js';
import { applyDevicesHealth, managedDevicesOf, syncDevices, type DeviceHealthInput } from '../../storage/devices.repo.js';
import { insertHealthSamples, type HealthSampleInput } from '../../storage/health.repo.js';
import { ensureLocation } from '../../storage/locations.repo.js';
import { applyBirth, lockSensorsForIngest, updateSensorsAfterIngest, type SensorIngestRow, type SensorIngestUpdate } from '../../storage/sensors.repo.js';
import { insertTransitions } from '../../storage/status-history.repo.js';
import type { SensorHealthEvent } from '../events.js';
import { maxTimestamp, minTimestamp, timestampToIso } from '../time.js';
import { degradedReason, fullestDiskPercent } from './sensor-status.js';
import type { FleetChange } from './fleet-view.js';
import type { IngestOutcome, SensorStatus } from './sensors.types.js';

/** One message of a batch. */
export type SensorItem =
  | { kind: 'state'; sensor: string; msg: StateMessage }
  | { kind: 'health'; sensor: string; msg: HealthMessage }
  | { kind: 'pcap'; sensor: string; msg: PcapMessage };

/** What a committed batch did, in message order. */
export interface BatchResult {
  outcomes: IngestOutcome[];
  /** Status changes and health samples to emit, in the order they happened. */
  events: (SensorStatusEvent | SensorHealthEvent)[];
  /** Per changed sensor, what the fleet view must learn (merged over the batch). */
  changes: FleetChange[];
}

/** A sensor's row under lock plus what the batch changed on it. */
interface Working {
  row: SensorIngestRow;
  managed: string[];
  dirty: boolean;
  disks?: unknown[];
  pcap?: SensorIngestUpdate['pcap'];
  change: FleetChange;
  devices?: { captures: Map<string, HealthMessage['captures'][number]>; interfaces: Map<string, HealthMessage['interfaces'][number]> };
}

/** Applies `items` in `tx`; see the module comment. */
export async function applySensorBatch(tx: Queryable, items: readonly SensorItem[], now: Date, log: Logger): Promise<BatchResult> {
  const rows = await lockSensorsForIngest(
    tx,
    items.map((i) => i.sensor),
  );
  const healthIds = new Set<number>();
  const byName = new Map(rows.map((r) => [r.name, r]));
  for (const i of items) if (i.kind === 'health' && byName.has(i.sensor)) healthIds.add(byName.get(i.sensor)!.id);
  const managed = await managedDevicesOf(tx, [...healthIds]);
  const working = new Map<string, Working>(
    rows.map((row) => [row.name, { row, managed: managed.get(row.id) ?? [], dirty: false, change: { name: row.name } }]),
  );

  // Every health sample in one statement; whether each was new decides the rest of its message.
  const samples: HealthSampleInput[] = [];
  const sampleOf = items.map((i) => {
    const w = working.get(i.sensor);
    if (i.kind !== 'health' || !w) return -1;
    samples.push(healthSample(w.row.id, i.msg));
    return samples.length - 1;
  });
  const fresh = await insertHealthSamples(tx, samples);

  const events: BatchResult['events'] = [];
  const history: { sensorId: number; from: string; to: string; reason: string; at: Date }[] = [];
  const transition = (w: Working, to: Exclude<SensorStatus, 'unknown'>, reason: string): void => {
    const { row } = w;
    if (row.status === to) {
      if (to === 'degraded' && row.statusReason !== reason) {
        row.statusReason = reason;
        w.dirty = true;
        w.change.status = { status: to, reason, since: row.statusChangedAt };
      }
      return;
    }
    const from = row.status;
    history.push({ sensorId: row.id, from, to, reason, at: now });
    events.push({ type: 'sensor.status', sensor: row.name, status: to, previous: from as SensorStatus, reason, at: now.toISOString() });
    row.status = to;
    row.statusReason = reason;
    row.statusChangedAt = now;
    w.dirty = true;
    w.change.status = { status: to, reason, since: now };
  };
  const touch = (w: Working, seq: number): void => {
    const { row } = w;
    if (row.lastSeen === null || row.lastSeen.getTime() < now.getTime()) row.lastSeen = now;
    if (row.lastSeq === null || seq > row.lastSeq) row.lastSeq = seq;
    w.dirty = true;
    w.change.lastSeen = row.lastSeen;
  };

  const outcomes: IngestOutcome[] = [];
  for (const [k, item] of items.entries()) {
    const w = working.get(item.sensor);
    if (!w) {
      outcomes.push('unknown-sensor');
      continue;
    }
    const { row } = w;
    if (item.kind === 'state') {
      const msg = item.msg;
      if (msg.status === 'online') {
        if (row.bdSeq === msg.bdSeq && row.lastSeq !== null && msg.seq <= row.lastSeq) {
          outcomes.push('duplicate');
          continue;
        }
        if (row.bdSeq !== null && msg.bdSeq < row.bdSeq) {
          log.warn({ sensor: row.name, bdSeq: msg.bdSeq, previousBdSeq: row.bdSeq }, 'birth with a lower bdSeq: agent state was reset');
        }
        const locationId = msg.location ? await ensureLocation(tx, msg.location) : undefined;
        await applyBirth(tx, row.id, {
          bdSeq: msg.bdSeq,
          seq: msg.seq,
          seenAt: now,
          version: msg.version ?? null,
          hostname: msg.hostname ?? null,
          locationId,
          capabilities: msg.capabilities ?? [],
          interfaces: msg.interfaces ?? [],
        });
        if (msg.interfaces) {
          await syncDevices(tx, row.id, msg.interfaces);
          w.managed = msg.interfaces.filter((i) => i.managed).map((i) => i.name);
        }
        row.bdSeq = msg.bdSeq;
        row.lastSeq = msg.seq;
        if (row.lastSeen === null || row.lastSeen.getTime() < now.getTime()) row.lastSeen = now;
        if (locationId !== undefined) row.locationId = locationId;
        w.dirty = true;
        Object.assign(w.change, {
          lastSeen: row.lastSeen,
          birth: {
            version: msg.version ?? null,
            hostname: msg.hostname ?? null,
            capabilities: msg.capabilities ?? [],
            interfaces: msg.interfaces ?? [],
            ...(msg.location ? { location: msg.location } : {}),
          },
        });
        transition(w, 'online', 'birth');
        outcomes.push('applied');
        continue;
      }
      if (row.bdSeq !== null && msg.bdSeq < row.bdSeq) {
        outcomes.push('stale');
        continue;
      }
      if (row.bdSeq === null || msg.bdSeq > row.bdSeq) {
        row.bdSeq = msg.bdSeq;
        w.dirty = true;
      }
      transition(w, 'offline', msg.reason === 'lost' ? 'last will' : (msg.reason ?? 'offline'));
      outcomes.push('applied');
      continue;
    }
    if (item.kind === 'pcap') {
      const msg = item.msg;
      if (row.pcapSeq !== null && msg.seq <= row.pcapSeq) {
        outcomes.push(msg.seq === row.pcapSeq ? 'duplicate' : 'stale');
        continue;
      }
      const oldest = msg.sources.map((s) => s.oldest).reduce((a, b) => (a && b ? minTimestamp(a, b) : (a ?? b)), null);
      const newest = msg.sources.map((s) => s.newest).reduce((a, b) => (a && b ? maxTimestamp(a, b) : (a ?? b)), null);
      w.pcap = { oldest: oldest ? timestampToIso(oldest) : null, newest: newest ? timestampToIso(newest) : null, sources: msg.sources, at: now, seq: msg.seq };
      row.pcapSeq = msg.seq;
      w.change.pcap = { oldest: w.pcap.oldest, newest: w.pcap.newest, sources: msg.sources, updatedAt: now };
      touch(w, msg.seq);
      outcomes.push('applied');
      continue;
    }
    const msg = item.msg;
    if (!fresh[sampleOf[k]!]) {
      outcomes.push('duplicate');
      continue;
    }
    const sampledAt = new Date(msg.sentAt);
    const latest = w.change.latestHealth;
    if (!latest || latest.at.getTime() < sampledAt.getTime() || (latest.at.getTime() === sampledAt.getTime() && latest.seq < msg.seq)) {
      w.change.latestHealth = {
        at: sampledAt,
        seq: msg.seq,
        cpu: asReal(msg.cpu.usage),
        memoryUsed: msg.memory.used,
        memoryTotal: msg.memory.total,
        load1: asReal(msg.load[0]),
      };
    }
    const newest = row.lastSeq === null || msg.seq > row.lastSeq;
    touch(w, msg.seq);
    if (!newest) {
      outcomes.push('applied');
      continue;
    }
    w.disks = msg.disks;
    w.change.disks = msg.disks;
    if (msg.clockOffsetMs !== undefined && msg.clockOffsetMs !== null) row.clockOffsetMs = msg.clockOffsetMs;
    w.change.clockOffsetMs = row.clockOffsetMs;
    w.devices ??= { captures: new Map(), interfaces: new Map() };
    for (const c of msg.captures) w.devices.captures.set(c.interface, c);
    for (const i of msg.interfaces) w.devices.interfaces.set(i.name, i);
    const degraded = degradedReason(msg, w.managed);
    const wasLive = row.status === 'online' || row.status === 'degraded';
    transition(w, degraded ? 'degraded' : 'online', degraded ?? (wasLive ? 'recovered' : 'health received'));
    events.push({
      type: 'sensor.health',
      sensor: row.name,
      at: sampledAt.toISOString(),
      cpu: msg.cpu.usage,
      memoryUsed: msg.memory.used,
      memoryTotal: msg.memory.total,
      load1: msg.load[0],
      disks: msg.disks.map((d) => ({ mount: d.mount, size: d.size, used: d.used, usedPercent: d.size > 0 ? (d.used / d.size) * 100 : 0 })),
    });
    outcomes.push('applied');
  }

  const changed = [...working.values()].filter((w) => w.dirty || w.change.latestHealth);
  const devices: DeviceHealthInput[] = changed.flatMap((w) =>
    w.devices ? [{ sensorId: w.row.id, captures: [...w.devices.captures.values()], interfaces: [...w.devices.interfaces.values()], at: now }] : [],
  );
  await applyDevicesHealth(tx, devices);
  await updateSensorsAfterIngest(
    tx,
    changed
      .filter((w) => w.dirty)
      .map((w) => ({
        id: w.row.id,
        bdSeq: w.row.bdSeq,
        lastSeq: w.row.lastSeq,
        lastSeen: w.row.lastSeen,
        status: w.row.status,
        statusReason: w.row.statusReason,
        statusChangedAt: w.row.statusChangedAt,
        clockOffsetMs: w.row.clockOffsetMs,
        disks: w.disks,
        pcap: w.pcap,
      })),
  );
  await insertTransitions(tx, history);
  return { outcomes, events, changes: changed.map((w) => w.change) };
}

/**
 * Whether the batch can carry `msg` without risking the other messages: its sending time must
 * be a representable time (the schema allows integers past the largest JS Date).
 */
export function validSentAt(msg: { sentAt: number }): boolean {
  return Number.isFinite(new Date(msg.sentAt).getTime());
}

/**
 * `x` as a `real` column gives it back (float4, printed shortest): what a sample read from the
 * database shows, so the fleet view does not change across a restart.
 */
export function asReal(x: number): number {
  const f = Math.fround(x);
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(f.toPrecision(p));
    if (Math.fround(candidate) === f) return candidate;
  }
  return f;
}

function healthSample(sensorId: number, msg: HealthMessage): HealthSampleInput {
  return {
    sensorId,
    sampledAt: new Date(msg.sentAt),
    seq: msg.seq,
    cpuUsage: msg.cpu.usage,
    cpuCores: msg.cpu.cores,
    memoryTotal: msg.memory.total,
    memoryUsed: msg.memory.used,
    memoryAvailable: msg.memory.available,
    load: msg.load,
    uptimeSeconds: msg.uptime,
    diskUsedPercent: fullestDiskPercent(msg.disks),
    disks: msg.disks,
    interfaces: msg.interfaces,
    captures: msg.captures,
    clockOffsetMs: msg.clockOffsetMs ?? null,
    spoolDropped: msg.spoolDropped ?? null,
  };
}
