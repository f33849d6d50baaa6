import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leafPaths } from '@pcapmesh/shared/util/config';
import { ConfigError, collectorConfig, collectorConfigSchema, loadCollectorConfig, publicUrlOf } from './config.js';

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'collector-cfg-'));
  writeFileSync(join(dir, 'collector.yaml'), text);
  return join(dir, 'collector.yaml');
}

test('defaults: safe loopback listeners, embedded everything, derived heartbeat timeout', () => {
  const cfg = loadCollectorConfig({ env: {}, cwd: '/srv/pcapmesh' });
  assert.equal(cfg.dataDir, '/srv/pcapmesh/data');
  assert.equal(cfg.http.host, '127.0.0.1');
  assert.equal(cfg.http.port, 8080);
  assert.equal(cfg.http.apiToken, undefined);
  assert.equal(cfg.mqtt.mode, 'embedded');
  assert.equal(cfg.mqtt.port, 1883);
  assert.equal(cfg.mqtt.host, '127.0.0.1');
  assert.equal(cfg.mqtt.tls.port, 8883);
  assert.equal(cfg.mqtt.sharedGroup, 'pcapmesh-collectors');
  assert.equal(cfg.database.url, undefined);
  assert.equal(cfg.redis.url, undefined);
  assert.deepEqual(cfg.ingest, { healthIntervalSeconds: 10, heartbeatTimeoutSeconds: 30 });
  assert.deepEqual(cfg.retention, { healthDays: 30, trafficDays: 30, auditDays: 365, statusDays: 365, partitionsAhead: 3 });
  assert.equal(cfg.log.level, 'info');
});

test('file, PCAPMESH_ overrides and the conventional aliases combine', () => {
  const cfg = loadCollectorConfig({
    file: file('dataDir: /var/lib/pcapmesh\nhttp:\n  port: 9000\ningest:\n  healthIntervalSeconds: 5\n'),
    env: {
      PCAPMESH_HTTP__HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://pcapmesh@db/pcapmesh',
      REDIS_URL: 'redis://cache:6379',
      MQTT_URL: 'mqtt://broker:1883',
      PCAPMESH_MQTT__PASSWORD: '123456',
      PCAPMESH_RETENTION__HEALTH_DAYS: '7',
    },
  });
  assert.equal(cfg.dataDir, '/var/lib/pcapmesh');
  assert.equal(cfg.http.port, 9000);
  assert.equal(cfg.http.host, '0.0.0.0');
  assert.equal(cfg.database.url, 'postgres://pcapmesh@db/pcapmesh');
  assert.equal(cfg.redis.url, 'redis://cache:6379');
  assert.equal(cfg.mqtt.mode, 'external');
  assert.equal(cfg.retention.healthDays, 7);
  assert.equal(cfg.ingest.heartbeatTimeoutSeconds, 15, '3 × the health interval');
  assert.equal(cfg.mqtt.password, '123456');
});

test('an empty DATABASE_URL means unset (embedded PGlite)', () => {
  assert.equal(loadCollectorConfig({ env: { DATABASE_URL: '' } }).database.url, undefined);
  assert.equal(loadCollectorConfig({ env: { PCAPMESH_DATABASE__URL: '' } }).database.url, undefined);
});

test('every bad key is named at once, with the variable it came from', () => {
  try {
    loadCollectorConfig({
      file: file('htp:\n  port: 1\nhttp:\n  port: 70000\nmqtt:\n  tls:\n    certFile: /c.pem\nretention:\n  healthDays: -1\n'),
      env: { DATABASE_URL: 'mysql://x', PCAPMESH_LOG__LEVEL: 'loud' },
    });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.match(text, /^htp: unknown key/m);
    assert.match(text, /^http\.port: /m);
    assert.match(text, /^mqtt\.tls\.keyFile: required when/m);
    assert.match(text, /^retention\.healthDays: /m);
    assert.match(text, /^database\.url: must be a URL starting with postgres:\/\/ or postgresql:\/\/ or memory:\/\/ \(from DATABASE_URL\)/m);
    assert.match(text, /^log\.level: .*\(from PCAPMESH_LOG__LEVEL\)/m);
    assert.equal(err.problems.length, 6);
  }
});

test('every key is documented in the schema file and reachable by an environment variable', async () => {
  const { readFileSync } = await import('node:fs');
  const source = readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
  for (const path of leafPaths(collectorConfigSchema)) {
    const key = path[path.length - 1]!;
    assert.match(source, new RegExp(`/\\*\\*[^*]*\\*/\\s*\\n\\s*${key}:`), `${path.join('.')} has a doc comment`);
  }
});

test('collectorConfig() builds a validated config in code', () => {
  const cfg = collectorConfig({ database: { url: 'memory://' }, http: { port: 18080 } }, '/tmp');
  assert.equal(cfg.database.url, 'memory://');
  assert.equal(cfg.dataDir, '/tmp/data');
  assert.throws(() => collectorConfig({ http: { port: 70000 } }), /http\.port/);
});

test('TLS settings come from the environment too, and the TLS port must differ from the plain one', () => {
  const env = { PCAPMESH_MQTT__TLS__CERT_FILE: '/c.pem', PCAPMESH_MQTT__TLS__KEY_FILE: '/k.pem' };
  assert.deepEqual(loadCollectorConfig({ env }).mqtt.tls, { certFile: '/c.pem', keyFile: '/k.pem', port: 8883 });
  assert.throws(() => loadCollectorConfig({ env: { ...env, PCAPMESH_MQTT__PORT: '8883' } }), /mqtt\.tls\.port: must differ from mqtt\.port \(8883\)/);
});

test('the plain MQTT listener can be turned off (only with TLS) or bound apart from MQTTS', () => {
  const tls = { PCAPMESH_MQTT__TLS__CERT_FILE: '/c.pem', PCAPMESH_MQTT__TLS__KEY_FILE: '/k.pem' };
  assert.equal(loadCollectorConfig({ env: { ...tls, PCAPMESH_MQTT__PLAIN_ENABLED: 'false' } }).mqtt.plainEnabled, false);
  assert.throws(() => loadCollectorConfig({ env: { PCAPMESH_MQTT__PLAIN_ENABLED: 'false' } }), /mqtt\.plainEnabled: false needs mqtt\.tls\.certFile/);
  const apart = loadCollectorConfig({ env: { ...tls, PCAPMESH_MQTT__HOST: '0.0.0.0', PCAPMESH_MQTT__PLAIN_HOST: '127.0.0.1' } }).mqtt;
  assert.equal(apart.host, '0.0.0.0');
  assert.equal(apart.plainHost, '127.0.0.1');
  assert.equal(collectorConfig().mqtt.maxConnectionsPerAddress, 100);
  assert.throws(() => collectorConfig({ mqtt: { maxConnectionsPerAddress: 0 } }), /mqtt\.maxConnectionsPerAddress/);
});

test('login throttle keys: defaults, environment overrides, and bad values named with their variable', () => {
  const auth = loadCollectorConfig({ env: { PCAPMESH_AUTH__UNKNOWN_CHECKS_PER_SECOND: '0', PCAPMESH_AUTH__MAX_CONCURRENT_CHECKS: '3' } }).auth;
  assert.deepEqual(
    [auth.knownForDays, auth.globalFailuresPerMinute, auth.unknownChecksPerSecond, auth.maxConcurrentChecks, auth.maxQueuedChecks],
    [30, 100, 0, 3, 100],
  );
  assert.equal(collectorConfig().auth.maxConcurrentChecks, undefined, 'unset: the CPU count, decided by the throttle');
  try {
    loadCollectorConfig({
      env: { PCAPMESH_AUTH__KNOWN_FOR_DAYS: '0', PCAPMESH_AUTH__GLOBAL_FAILURES_PER_MINUTE: 'many', PCAPMESH_AUTH__MAX_CONCURRENT_CHECKS: '1.5' },
    });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.match(text, /^auth\.knownForDays: .*\(from PCAPMESH_AUTH__KNOWN_FOR_DAYS\)/m);
    assert.match(text, /^auth\.globalFailuresPerMinute: .*\(from PCAPMESH_AUTH__GLOBAL_FAILURES_PER_MINUTE\)/m);
    assert.match(text, /^auth\.maxConcurrentChecks: .*\(from PCAPMESH_AUTH__MAX_CONCURRENT_CHECKS\)/m);
    assert.equal(err.problems.length, 3);
  }
});

test('jobs and results keys: defaults, environment overrides, derived directory and public URL, defaults above ceilings refused', () => {
  const cfg = loadCollectorConfig({ env: {}, cwd: '/srv/pcapmesh' });
  assert.deepEqual(cfg.jobs.defaultLimits, { maxBytes: 2 ** 30, maxPackets: 10_000_000, timeoutSeconds: 3600 });
  assert.deepEqual(cfg.jobs.ceilings, { maxBytes: 64 * 2 ** 30, maxPackets: 500_000_000, timeoutSeconds: 7 * 86_400 });
  assert.equal(cfg.jobs.maxWindowSeconds, 7 * 86_400);
  assert.deepEqual(cfg.jobs.quota, { concurrentJobs: 5, bytesPerDay: 20 * 2 ** 30, dryRunsPerMinute: 30 });
  assert.deepEqual(
    [cfg.jobs.taskNoProgressSeconds, cfg.jobs.taskMaxAttempts, cfg.jobs.dryRunTimeoutMs, cfg.jobs.uploadTokenMinutes, cfg.jobs.uploadChunkMaxBytes],
    [120, 3, 3000, 60, 16 * 2 ** 20],
  );
  assert.deepEqual(cfg.results, { directory: '/srv/pcapmesh/data/results', maxBytes: 50 * 2 ** 30, expiryDays: 7 });
  assert.equal(publicUrlOf(cfg), 'http://127.0.0.1:8080');
  assert.equal(publicUrlOf(collectorConfig({ http: { host: '0.0.0.0', port: 0 } }), 43210), 'http://127.0.0.1:43210');

  const env = loadCollectorConfig({
    cwd: '/srv',
    env: {
      PCAPMESH_JOBS__QUOTA__BYTES_PER_DAY: '0',
      PCAPMESH_JOBS__CEILINGS__MAX_PACKETS: '1000',
      PCAPMESH_JOBS__DEFAULT_LIMITS__MAX_PACKETS: '1000',
      PCAPMESH_RESULTS__DIRECTORY: 'res',
      PCAPMESH_HTTP__PUBLIC_URL: 'https://collector.example.org/',
    },
  });
  assert.equal(env.jobs.quota.bytesPerDay, 0);
  assert.equal(env.jobs.ceilings.maxPackets, 1000);
  assert.equal(env.results.directory, '/srv/res');
  assert.equal(publicUrlOf(env, 1234), 'https://collector.example.org', 'configured: used as is, without the trailing slash');

  assert.throws(
    () => loadCollectorConfig({ env: { PCAPMESH_JOBS__CEILINGS__MAX_BYTES: '1000' } }),
    /jobs\.defaultLimits\.maxBytes: must not exceed jobs\.ceilings\.maxBytes \(1000\)/,
  );
  assert.throws(
    () => loadCollectorConfig({ env: { PCAPMESH_HTTP__PUBLIC_URL: 'collector:8080' } }),
    /http\.publicUrl: must be a URL starting with http:\/\/ or https:\/\//,
  );
});
