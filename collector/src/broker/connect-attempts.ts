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

export interface ConnectGateOptions {
  /** CONNECTs admitted per second on average (the bucket refills at this rate). */
  ratePerSecond: number;
  /** CONNECTs admitted at once after a quiet spell (bucket size). Default: ratePerSecond. */
  burst?: number;
  /** CONNECTs whose credentials are being checked at once; more are refused. Default 256. */
  maxPending?: number;
  now?: () => number;
}

/**
 * Bounds the rate at which the broker takes on CONNECTs (broker/policy.ts), so a reconnect storm
 * is answered quickly — admitted, or refused with CONNACK 3 "server unavailable" so the agent backs
 * off and retries — instead of piling up until CONNACKs time out. A token bucket (`ratePerSecond`,
 * `burst`) plus a cap on checks in progress (`maxPending`: a slow database cannot make admitted
 * connects wait without bound). `admit()` takes a token and a pending slot, or returns false
 * (counted in `refused`); an admitted check ends with `settled()`. Refusals are not failed logins.
 */
export class ConnectGate {
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;
  private pendingChecks = 0;
  /** CONNECTs refused because the broker was over its connect rate or pending cap. */
  refused = 0;

  constructor(opts: ConnectGateOptions) {
    if (!(opts.ratePerSecond > 0)) throw new RangeError(`ConnectGate: ratePerSecond must be > 0, got ${opts.ratePerSecond}`);
    this.rate = opts.ratePerSecond;
    this.burst = opts.burst ?? opts.ratePerSecond;
    if (!(this.burst >= 1)) throw new RangeError(`ConnectGate: burst must be ≥ 1, got ${this.burst}`);
    this.maxPending = opts.maxPending ?? 256;
    this.now = opts.now ?? Date.now;
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** True (a token and a pending slot taken) when a CONNECT may be checked now; else counted and false. */
  admit(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens < 1 || this.pendingChecks >= this.maxPending) {
      this.refused += 1;
      return false;
    }
    this.tokens -= 1;
    this.pendingChecks += 1;
    return true;
  }

  /** An admitted CONNECT's check finished (either way). */
  settled(): void {
    if (this.pendingChecks > 0) this.pendingChecks -= 1;
  }

  /** Checks in progress. */
  get pending(): number {
    return this.pendingChecks;
  }
}
