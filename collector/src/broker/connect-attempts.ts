/**
 * Failed MQTT logins per source address (broker/policy.ts). An address with `maxFailures` refused
 * CONNECTs within `windowMs` is refused at its next CONNECT without any secret being checked,
 * until the oldest of those failures leaves the window. Bounded: at most `maxAddresses` addresses
 * are tracked (the oldest entry is dropped first), so a flood of addresses cannot grow the heap.
 *
 * A sensor behind the same NAT address as a client guessing secrets shares its limit; the limit
 * (10 a minute by default) is far above what a misconfigured agent's backoff produces.
 */
export interface ConnectAttemptsOptions {
  maxFailures?: number;
  windowMs?: number;
  maxAddresses?: number;
  now?: () => number;
}

export class ConnectAttempts {
  private readonly failures = new Map<string, number[]>();
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;
  /** CONNECTs refused because their address was over the limit. */
  blockedCount = 0;

  constructor(opts: ConnectAttemptsOptions = {}) {
    this.maxFailures = opts.maxFailures ?? 10;
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxAddresses = opts.maxAddresses ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** True when `address` is over the limit (counted in blockedCount). */
  blocked(address: string): boolean {
    const recent = this.recent(address);
    if (recent.length < this.maxFailures) return false;
    this.blockedCount += 1;
    return true;
  }

  /** Records a refused login from `address`. */
  failed(address: string): void {
    const recent = this.recent(address);
    recent.push(this.now());
    this.failures.delete(address);
    this.failures.set(address, recent); // re-inserted: Map order is least recently failed first
    if (this.failures.size > this.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  private recent(address: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.failures.get(address) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }
}
