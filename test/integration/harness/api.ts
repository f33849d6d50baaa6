/**
 * A small client of the collector's HTTP API for tests: bearer token, JSON, and errors that carry
 * the status and body. Only the routes the acceptance tests read are wrapped.
 */
import type { HealthPoint, SensorApiView, SensorStatusView } from '../../../collector/src/domain/sensors/sensors.types.js';
import type { IngestSnapshot } from '../../../collector/src/domain/ingest-stats.js';
import { eventually } from './wait.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    path: string,
  ) {
    super(`GET ${path} → ${status}: ${body.slice(0, 300)}`);
  }
}

/** GET /api/v1/health/summary: the fields the tests read. */
export interface HealthSummary {
  sensors: Record<string, number>;
  ingest: IngestSnapshot;
  [key: string]: unknown;
}

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async get<T>(path: string, opts: { auth?: boolean } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.auth !== false) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(`${this.baseUrl}/api/v1${path}`, { headers, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, text, path);
    return JSON.parse(text) as T;
  }

  sensor(name: string): Promise<SensorApiView> {
    return this.get<SensorApiView>(`/sensors/${encodeURIComponent(name)}`);
  }

  status(name: string): Promise<SensorStatusView> {
    return this.get<SensorStatusView>(`/sensors/${encodeURIComponent(name)}/status`);
  }

  /** GET /sensors/{name}/health?from=&to=&maxPoints= (points in time order). */
  async healthSeries(name: string, from: Date, to: Date, maxPoints = 10_000): Promise<HealthPoint[]> {
    const q = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), maxPoints: String(maxPoints) });
    return (await this.get<{ points: HealthPoint[] }>(`/sensors/${encodeURIComponent(name)}/health?${q}`)).points;
  }

  summary(): Promise<HealthSummary> {
    return this.get<HealthSummary>('/health/summary');
  }

  /** Waits until the sensor has `status`; returns its status view. */
  waitForStatus(name: string, status: SensorStatusView['status'], timeoutMs: number): Promise<SensorStatusView> {
    return eventually(
      async () => {
        const view = await this.status(name);
        if (view.status === status) return view;
        throw new Error(`status ${view.status} (${view.reason ?? 'no reason'})`);
      },
      { what: `sensor ${name} ${status}`, timeoutMs, intervalMs: 100 },
    );
  }

  /** Waits until a rejection counter of health/summary reaches `atLeast`; returns the summary. */
  waitForRejected(reason: keyof IngestSnapshot['rejected'], atLeast: number, timeoutMs: number): Promise<HealthSummary> {
    return eventually(
      async () => {
        const s = await this.summary();
        if (s.ingest.rejected[reason] >= atLeast) return s;
        throw new Error(`rejected.${reason} = ${s.ingest.rejected[reason]}`);
      },
      { what: `health/summary rejected.${reason} ≥ ${atLeast}`, timeoutMs },
    );
  }
}
