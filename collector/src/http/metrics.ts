/**
 * Prometheus metrics of the collector (docs/operations.md "Metrics").
 *
 * Nothing here adds work to the ingest path: counters that already exist (IngestStats, the
 * broker's limit counters, the login throttle's counters, the pg pool) are read when Prometheus
 * scrapes, through prom-client `collect()` callbacks. Only two things are observed as they
 * happen: each HTTP request's duration (labelled by its route pattern, never the raw path, so
 * the label set stays bounded) and each task's duration (from the first status this process
 * saw for it to its final one, from the `task.progress` domain events).
 *
 * Contract: `createMetrics(sources)` owns a registry of its own (never prom-client's global
 * one, so two collectors in one test process do not collide); `render()` returns the text
 * exposition format (`contentType`). A source that fails during a scrape (the database is
 * down) leaves its gauges at their last values; the failure is counted in
 * `pcapmesh_metrics_collect_errors_total` by source, never thrown into the scrape.
 *
 * @example
 *   const metrics = createMetrics({ ingestStats, sensors, broker, db, throttle, events, jobStates });
 *   app.use(metrics.httpMiddleware); // in createHttpApp
 *   const text = await metrics.render();
 */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import client from 'prom-client';
import type { BrokerStatus } from '../broker/transport.js';
import type { IngestStats } from '../domain/ingest-stats.js';
import type { LoginThrottle } from '../domain/accounts/login-throttle.js';
import type { SensorView } from '../domain/sensors/sensors.types.js';
import type { SensorStatus } from '../domain/sensors/sensors.types.js';
import type { TaskProgressEvent } from '../domain/events.js';
import type { AppEnv } from './env.js';

/** The pg pool's totals (PostgreSQL); null on PGlite, which has no pool. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** What the metrics read at scrape time: narrow slices of the collector's services. */
export interface MetricsSources {
  ingestStats: Pick<IngestStats, 'snapshot'>;
  sensors: { list(): Promise<SensorView[]>; statusCounts(): Promise<Record<SensorStatus, number>> };
  broker: { status(): BrokerStatus };
  /** Login brute-force protection: its counters object (domain/accounts/login-throttle.ts). */
  throttle: Pick<LoginThrottle, 'counters' | 'overBudget'>;
  /** Jobs per state, every state the database holds (storage/metrics.repo.ts jobCountsByState). */
  jobStates: () => Promise<Record<string, number>>;
  /** The database pool's totals, or null (PGlite). */
  pool: () => PoolStats | null;
  /** Subscribes to task status changes (DomainEvents.on('task.progress', …)); returns the unsubscribe. */
  onTaskProgress?: (listener: (event: TaskProgressEvent) => void) => () => void;
  /** Collector clock in ms; default Date.now. */
  now?: () => number;
}

export interface Metrics {
  readonly registry: client.Registry;
  readonly contentType: string;
  /** The text exposition of every metric, its collect() callbacks run first. */
  render(): Promise<string>;
  /** Observes each request's duration by method, route pattern and status (mount it first in the app). */
  readonly httpMiddleware: MiddlewareHandler<AppEnv>;
  /** Stops listening to domain events. */
  close(): void;
}

const TERMINAL_TASK = new Set(['done', 'failed', 'cancelled', 'skipped']);
/** Tasks followed at once; beyond this the oldest are forgotten (a task whose end was never seen). */
const MAX_OPEN_TASKS = 10_000;

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new client.Registry();
  const now = sources.now ?? Date.now;
  const collectErrors = new client.Counter({
    name: 'pcapmesh_metrics_collect_errors_total',
    help: 'Sources that failed while a scrape read them (the metric keeps its previous value).',
    labelNames: ['source'],
    registers: [registry],
  });
  const guarded = async (source: string, fn: () => Promise<void> | void): Promise<void> => {
    try {
      await fn();
    } catch {
      collectErrors.inc({ source });
    }
  };

  new client.Counter({
    name: 'pcapmesh_ingest_messages_total',
    help: 'Sensor messages applied by ingest, by kind (since the collector started).',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const snap = sources.ingestStats.snapshot();
      this.reset();
      for (const [kind, n] of Object.entries(snap.accepted)) this.inc({ kind }, n);
    },
  });
  new client.Counter({
    name: 'pcapmesh_ingest_refused_total',
    help: 'Sensor messages not applied, by reason (decode failures, unknown or revoked sensor, duplicate, stale, store error).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const snap = sources.ingestStats.snapshot();
      this.reset();
      for (const [reason, n] of Object.entries(snap.rejected)) this.inc({ reason }, n);
    },
  });

  new client.Gauge({
    name: 'pcapmesh_sensors',
    help: 'Registered sensors by status.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      await guarded('sensors', async () => {
        const counts = await sources.sensors.statusCounts();
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      });
    },
  });
  new client.Gauge({
    name: 'pcapmesh_sensor_last_seen_age_seconds',
    help: 'Seconds since the last message of each sensor (sensors never seen are absent).',
    labelNames: ['sensor'],
    registers: [registry],
    async collect() {
      await guarded('sensors', async () => {
        const list = await sources.sensors.list();
        this.reset();
        const t = now();
        for (const s of list) if (s.lastSeen !== null) this.set({ sensor: s.name }, Math.max(0, (t - Date.parse(s.lastSeen)) / 1000));
      });
    },
  });

  new client.Gauge({
    name: 'pcapmesh_jobs',
    help: 'Capture jobs by state.',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      await guarded('jobs', async () => {
        const counts = await sources.jobStates();
        this.reset();
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      });
    },
  });
  const taskDuration = new client.Histogram({
    name: 'pcapmesh_task_duration_seconds',
    help: 'Task durations by final status, from the first status this collector process saw for the task to its final one.',
    labelNames: ['status'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [registry],
  });
  const openTasks = new Map<string, number>();
  const offTasks =
    sources.onTaskProgress?.((event) => {
      const key = `${event.task}#${event.attempt}`;
      if (TERMINAL_TASK.has(event.status)) {
        const started = openTasks.get(key);
        openTasks.delete(key);
        if (started !== undefined) taskDuration.observe({ status: event.status }, (now() - started) / 1000);
      } else if (!openTasks.has(key)) {
        if (openTasks.size >= MAX_OPEN_TASKS) openTasks.delete(openTasks.keys().next().value as string);
        openTasks.set(key, now());
      }
    }) ?? (() => undefined);

  const httpDuration = new client.Histogram({
    name: 'pcapmesh_http_request_duration_seconds',
    help: 'HTTP request durations by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const httpMiddleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      httpDuration.observe({ method: c.req.method, route: routeLabel(c), status: String(c.res.status) }, (performance.now() - started) / 1000);
    }
  };

  new client.Gauge({
    name: 'pcapmesh_broker_clients',
    help: 'Connected MQTT clients (embedded broker), or 1/0 for the collector’s own connection to an external broker.',
    registers: [registry],
    collect() {
      this.set(sources.broker.status().clients);
    },
  });
  new client.Counter({
    name: 'pcapmesh_broker_refused_total',
    help: 'Embedded broker refusals by limit (oversized, retain, task, connections, logins, busy; docs/mqtt.md "Limits").',
    labelNames: ['limit'],
    registers: [registry],
    collect() {
      const limits = sources.broker.status().limits;
      this.reset();
      if (limits) for (const [limit, n] of Object.entries(limits)) if (typeof n === 'number') this.inc({ limit }, n);
    },
  });

  const poolGauge = (name: string, help: string, pick: (p: PoolStats) => number) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const pool = sources.pool();
        if (pool) this.set(pick(pool));
      },
    });
  // Only where there is a pool (PostgreSQL): on PGlite the families are absent rather than a misleading 0.
  if (sources.pool() !== null) {
    poolGauge('pcapmesh_db_pool_connections', 'PostgreSQL pool: open connections.', (p) => p.total);
    poolGauge('pcapmesh_db_pool_idle', 'PostgreSQL pool: idle connections.', (p) => p.idle);
    poolGauge('pcapmesh_db_pool_waiting', 'PostgreSQL pool: queries waiting for a connection.', (p) => p.waiting);
  }

  new client.Counter({
    name: 'pcapmesh_login_throttle_total',
    help: 'Login throttle events by kind (refused, failures, lockouts, budgetRefused, busyRefused, passwordChecks, knownAttempts, …).',
    labelNames: ['event'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [event, n] of Object.entries(sources.throttle.counters)) if (typeof n === 'number') this.inc({ event }, n);
    },
  });
  new client.Gauge({
    name: 'pcapmesh_login_throttle_over_budget',
    help: '1 while the login throttle is over its global budget (under attack), else 0.',
    registers: [registry],
    collect() {
      this.set(sources.throttle.overBudget ? 1 : 0);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    httpMiddleware,
    close: offTasks,
  };
}

/** The route pattern that answered (`/api/v1/sensors/:name`); `other` when only middleware answered (the dashboard's files, 404). */
function routeLabel(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  const routes = matchedRoutes(c);
  const answered = routes[c.req.routeIndex];
  const path = answered?.path;
  return path === undefined || path === '*' || path === '/*' ? 'other' : path;
}
