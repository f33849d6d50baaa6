/**
 * The metrics over the fixture's real services (PGlite memory://, embedded broker): metrics.listen's
 * bad input and a port in use refused naming the key, task durations from real task.progress events,
 * the token check. The whole endpoint against a real collector: test/integration/metrics.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { ConfigError } from '../config.js';
import { createTestHttp, type TestHttp } from './app.fixture.js';
import { metricsTokenMatches, openCollectorMetrics, parseListen } from './metrics-routes.js';

let t: TestHttp;
before(async () => {
  t = await createTestHttp();
});
after(async () => {
  await t.close();
});

const deps = () => ({
  ingestStats: t.stats,
  sensors: t.sensors,
  broker: t.broker,
  db: t.db,
  events: t.events,
  log: pino({ level: 'silent' }),
  throttle: t.accounts.throttle,
});

test('metrics.listen: not host:port, or a port out of range, is a ConfigError naming the key', () => {
  for (const bad of ['9464', 'localhost', '127.0.0.1:99999', ':9464']) {
    assert.throws(
      () => parseListen(bad),
      (err: unknown) => err instanceof ConfigError && /metrics\.listen/.test(err.message),
      bad,
    );
  }
  assert.deepEqual(parseListen('[::1]:9464'), { host: '::1', port: 9464 });
});

test('metrics.listen on a port in use: the start is refused with a ConfigError naming metrics.listen', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as AddressInfo;
  try {
    await assert.rejects(openCollectorMetrics({ metrics: { listen: `127.0.0.1:${port}` } }, deps()), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, new RegExp(`metrics\\.listen: cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\)`));
      return true;
    });
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

test('task durations: from the first status seen to the final one, by final status, from the domain events', async () => {
  const opened = await openCollectorMetrics({ metrics: {} }, deps());
  try {
    const event = (task: string, status: 'scanning' | 'done' | 'failed') =>
      t.events.emit('task.progress', { type: 'task.progress', job: 'j1', task, sensor: 'alpha', status, attempt: 1, reason: null, progress: null, at: '' });
    event('t1', 'scanning');
    event('t2', 'scanning');
    event('t1', 'done');
    event('t2', 'failed');
    event('t3', 'done'); // its start was never seen: not observed
    const text = await opened.metrics.render();
    assert.match(text, /^pcapmesh_task_duration_seconds_count\{status="done"\} 1$/m);
    assert.match(text, /^pcapmesh_task_duration_seconds_count\{status="failed"\} 1$/m);
    assert.match(text, /^pcapmesh_jobs\{state="pending"\} 0$/m, 'jobs by state from the database');
  } finally {
    await opened.close();
  }
});

test('the metrics token: only the exact bearer token; nothing when none is configured', () => {
  const token = 'a-metrics-token-of-32-characters';
  assert.equal(metricsTokenMatches(`Bearer ${token}`, token), true);
  assert.equal(metricsTokenMatches(`bearer ${token}`, token), true);
  assert.equal(metricsTokenMatches(`Bearer ${token}x`, token), false);
  assert.equal(metricsTokenMatches(token, token), false, 'the scheme is required');
  assert.equal(metricsTokenMatches(undefined, token), false);
  assert.equal(metricsTokenMatches(`Bearer ${token}`, undefined), false);
});
