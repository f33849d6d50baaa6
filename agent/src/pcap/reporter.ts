/**
 * Publishes PCAP availability (retained `sensors/{name}/pcap`, QoS 1 through the spool): after
 * every scan when anything changed, and otherwise at least every `maxAgeMs`.
 */
import type { PcapSource } from '@pcapmesh/shared/wire';
import type { Outbox } from '../mqtt/outbox.js';
import type { AvailabilityScanner } from './availability.js';

export class AvailabilityReporter {
  private lastJson = '';
  private lastSentAt = 0;
  private latest: PcapSource[] = [];
  readonly counters = { published: 0 };

  constructor(
    private readonly scanner: AvailabilityScanner,
    private readonly outbox: Outbox,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The latest scan result. */
  get sources(): PcapSource[] {
    return this.latest;
  }

  /** Scans; publishes when changed or stale. Returns whether it published. */
  tick(): boolean {
    this.latest = this.scanner.scan();
    const json = JSON.stringify(this.latest);
    if (json === this.lastJson && this.now() - this.lastSentAt < this.maxAgeMs) return false;
    this.outbox.send('pcap', { sources: this.latest });
    this.lastJson = json;
    this.lastSentAt = this.now();
    this.counters.published++;
    return true;
  }
}
