import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, envName, leafPaths, loadConfig } from './config.js';

const schema = z.strictObject({
  name: z.string().min(1),
  http: z.strictObject({ port: z.number().int().min(1).max(65535).default(8080), host: z.string().default('127.0.0.1') }).prefault({}),
  mqtt: z.strictObject({ url: z.string().optional(), tls: z.strictObject({ certFile: z.string().optional() }).prefault({}) }).prefault({}),
});

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'c.yaml'), text);
  return join(dir, 'c.yaml');
}

test('env names follow one pattern', () => {
  assert.equal(envName('PCAPMESH_', ['mqtt', 'tls', 'certFile']), 'PCAPMESH_MQTT__TLS__CERT_FILE');
  assert.deepEqual(
    leafPaths(schema).map((p) => p.join('.')),
    ['name', 'http.port', 'http.host', 'mqtt.url', 'mqtt.tls.certFile'],
  );
});

test('file, defaults and env overrides combine; env wins', () => {
  const cfg = loadConfig(schema, {
    file: file('name: a\nhttp:\n  port: 9000\n'),
    envPrefix: 'P_',
    env: { P_HTTP__HOST: '0.0.0.0', P_MQTT__TLS__CERT_FILE: '/c.pem', MQTT_URL: 'mqtt://x' },
    aliases: { MQTT_URL: 'mqtt.url' },
  });
  assert.deepEqual(cfg, { name: 'a', http: { port: 9000, host: '0.0.0.0' }, mqtt: { url: 'mqtt://x', tls: { certFile: '/c.pem' } } });
});

test('every bad key is named at once', () => {
  try {
    loadConfig(schema, { file: file('nmae: a\nhttp:\n  port: lots\n'), envPrefix: 'P_', env: {} });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.match(text, /nmae: unknown key/);
    assert.match(text, /http\.port: /);
    assert.match(text, /name: /);
  }
});

test('env values are checked and their variable is named', () => {
  assert.throws(() => loadConfig(schema, { envPrefix: 'P_', env: { P_NAME: 'a', P_HTTP__PORT: '70000' } }), /http\.port: .*\(from P_HTTP__PORT\)/);
});

test('unreadable or non-mapping files are reported', () => {
  assert.throws(() => loadConfig(schema, { file: '/nonexistent/c.yaml', envPrefix: 'P_', env: {} }), /cannot read config file/);
  assert.throws(() => loadConfig(schema, { file: file('- a\n- b\n'), envPrefix: 'P_', env: {} }), /must hold a mapping/);
});
