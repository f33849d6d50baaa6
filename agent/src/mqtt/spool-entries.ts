/**
 * The spool's in-memory view of its records (spool.ts): where each sits (a segment file, or
 * memory when the disk refused it), its delivery state, and the pure lookups over the id-ordered
 * entry list — which records to drop first when the bound is reached, and finding one by id.
 */
import type { SpoolKind } from './spool-format.js';

export type EntryState = 'due' | 'inflight' | 'acked';

export interface Segment {
  no: number;
  path: string;
  bytes: number;
  /** Records in this segment that are neither acknowledged nor dropped. */
  live: number;
}

export interface Entry {
  id: number;
  seq: number;
  kind: SpoolKind;
  topic: string;
  retain: boolean;
  segment: Segment;
  offset: number;
  size: number;
  state: EntryState;
  /** The record's bytes when the disk refused them (its segment is then the spool's memory segment). */
  held?: Buffer;
}

/**
 * Droppable entries of `entries` (from index `head` on), most expendable first: retained records
 * superseded by a newer one on the same topic, then the oldest health records, then the oldest of
 * any kind. Records in flight are never offered.
 */
export function* victimOrder(entries: readonly Entry[], head: number): Generator<Entry> {
  const due = entries.slice(head).filter((e) => e.state === 'due');
  const newestOfTopic = new Map<string, Entry>();
  for (const e of due) if (e.retain) newestOfTopic.set(e.topic, e);
  const taken = new Set<Entry>();
  for (const e of due) {
    if (e.retain && newestOfTopic.get(e.topic) !== e) {
      taken.add(e);
      yield e;
    }
  }
  for (const e of due) {
    if (e.kind === 'health' && !taken.has(e)) {
      taken.add(e);
      yield e;
    }
  }
  for (const e of due) if (!taken.has(e)) yield e;
}

/** Index of the entry with `id` in `entries` (ids increase along it) at or after `head`; -1 when absent. */
export function indexOfId(entries: readonly Entry[], head: number, id: number): number {
  let lo = head;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = entries[mid]!.id;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The unacknowledged entries (from `head` on) grouped by the segment holding them, in id order. */
export function liveBySegment(entries: readonly Entry[], head: number): Map<Segment, Entry[]> {
  const bySeg = new Map<Segment, Entry[]>();
  for (let i = head; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.state === 'acked') continue;
    const list = bySeg.get(e.segment) ?? [];
    list.push(e);
    bySeg.set(e.segment, list);
  }
  return bySeg;
}
