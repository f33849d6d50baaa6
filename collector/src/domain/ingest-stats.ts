/**
 * Counters of the ingest path: messages accepted by kind and rejected by reason. Hot path, so
 * counting only (no logging here); `snapshot()` feeds `GET /api/v1/health/summary`.
 */
import { DECODE_FAILURES } from '@pcapmesh/shared/wire';

export const INGEST_KINDS = ['state', 'health', 'pcap', 'traffic', 'task-status', 'estimate'] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

/**
 * Why a message was not applied:
 * - the codec's decode failures: oversized, not-cbor, schema, version;
 * - unknown-topic: a topic outside the tree; unknown-sensor: no such registered sensor;
 *   revoked-sensor: a sensor an admin revoked (its messages still arrive through an external broker);
 * - not-permitted: a publisher wrote under another sensor's topics;
 * - duplicate: already stored (a replay); stale: an offline state older than the current birth
 *   (bdSeq rule);
 * - store-error: the database failed (logged with details where it happens); not acknowledged,
 *   the sensor sends the message again;
 * - unstorable: the database refuses the message itself (SQLSTATE class 22/23/54 when stored
 *   alone): acknowledged and dropped, logged with the sensor and seq, so it cannot block the sensor.
 */
export const REJECT_REASONS = [
  ...DECODE_FAILURES,
  'unknown-topic',
  'unknown-sensor',
  'revoked-sensor',
  'not-permitted',
  'duplicate',
  'stale',
  'store-error',
  'unstorable',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface IngestSnapshot {
  /** ISO time the counters started. */
  since: string;
  accepted: Record<IngestKind, number>;
  rejected: Record<RejectReason, number>;
  acceptedTotal: number;
  rejectedTotal: number;
}

export class IngestStats {
  private readonly startedAt = new Date();
  private readonly acceptedBy = zeroes(INGEST_KINDS);
  private readonly rejectedBy = zeroes(REJECT_REASONS);

  accepted(kind: IngestKind): void {
    this.acceptedBy[kind] += 1;
  }

  rejected(reason: RejectReason): void {
    this.rejectedBy[reason] += 1;
  }

  /** A copy of the counters; every kind and reason is present (zero when never seen). */
  snapshot(): IngestSnapshot {
    const accepted = { ...this.acceptedBy };
    const rejected = { ...this.rejectedBy };
    return {
      since: this.startedAt.toISOString(),
      accepted,
      rejected,
      acceptedTotal: sum(accepted),
      rejectedTotal: sum(rejected),
    };
  }
}

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}
