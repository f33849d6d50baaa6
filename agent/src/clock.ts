/**
 * Clock offset to the collector, NTP style: for each sample, t0 before and t1 after
 * `GET {collectorUrl}/api/v1/health` (a public endpoint answering `{ time }`), offset =
 * serverTime − (t0 + t1) / 2. Of a few samples the one with the smallest round trip wins (its
 * error bound is RTT / 2). `offsetMs` is null until a measurement succeeded, and again when the
 * last refresh failed; failures are logged at debug level only (the collector may be down, which
 * health reports show elsewhere).
 */
import type { Logger } from 'pino';

export interface ClockSample {
  offsetMs: number;
  rttMs: number;
}

/** Server time from a health response body: epoch ms or an ISO 8601 string. */
export function serverTimeOf(body: unknown): number | null {
  const t = (body as { time?: unknown } | null)?.time;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

export class CollectorClock {
  private offset: number | null = null;
  private rtt: number | null = null;
  private measuredAt = 0;

  constructor(
    private readonly baseUrl: string | undefined,
    private readonly logger: Logger,
    private readonly samples = 5,
    private readonly timeoutMs = 3_000,
  ) {}

  /** Collector clock minus agent clock in ms, or null when unknown. */
  get offsetMs(): number | null {
    return this.offset;
  }

  /** Round trip of the sample the offset came from. */
  get rttMs(): number | null {
    return this.rtt;
  }

  /**
   * Refreshes when the offset is unknown or older than `maxAgeMs` (call it often: an unknown
   * offset is retried at every call, a known one only once it has aged).
   */
  async refreshIfDue(maxAgeMs: number, now = Date.now()): Promise<number | null> {
    if (this.offset !== null && now - this.measuredAt < maxAgeMs) return this.offset;
    return this.refresh();
  }

  /** Takes `samples` measurements and keeps the min-RTT one; returns the new offset or null. */
  async refresh(): Promise<number | null> {
    if (!this.baseUrl) return null;
    let best: ClockSample | null = null;
    let lastError: unknown;
    for (let i = 0; i < this.samples; i++) {
      try {
        const s = await this.sample();
        if (!best || s.rttMs < best.rttMs) best = s;
      } catch (err) {
        lastError = err;
      }
    }
    this.offset = best ? Math.round(best.offsetMs) : null;
    this.measuredAt = Date.now();
    this.rtt = best ? best.rttMs : null;
    if (!best) this.logger.debug({ err: lastError }, 'clock: collector time unavailable');
    return this.offset;
  }

  private async sample(): Promise<ClockSample> {
    const url = new URL('api/v1/health', this.baseUrl!.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    const start = performance.now();
    const t0 = Date.now();
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json' } });
    const body: unknown = await res.json();
    const rttMs = performance.now() - start;
    if (!res.ok) throw new Error(`GET ${url.href}: HTTP ${res.status}`);
    const server = serverTimeOf(body);
    if (server === null) throw new Error(`GET ${url.href}: no usable "time" in the answer`);
    return { offsetMs: server - (t0 + rttMs / 2), rttMs };
  }
}
