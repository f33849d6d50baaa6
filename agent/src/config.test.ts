import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@pcapmesh/shared/util/config';
import { repoRoot } from '@pcapmesh/shared/util/testing';
import { loadAgentConfig } from './config.js';

test('defaults fill everything but the name', () => {
  const cfg = loadAgentConfig(undefined, { PCAPMESH_AGENT_NAME: 'alpha' });
  assert.equal(cfg.mqtt.url, 'mqtt://127.0.0.1:1883');
  assert.equal(cfg.mqtt.protocolVersion, 4);
  assert.equal(cfg.stateDir, './data/agent');
  assert.deepEqual(cfg.intervals, { healthSeconds: 10, availabilitySeconds: 60, scanSeconds: 5, clockSeconds: 300 });
  assert.equal(cfg.spool.maxBytes, 64 * 1024 * 1024);
  assert.deepEqual(cfg.index, { enabled: true, settleSeconds: 60 });
  assert.deepEqual(cfg.captures, []);
});

test('index: switched off and settle time from the environment; a settle time of 0 is refused, naming the variable', () => {
  const cfg = loadAgentConfig(undefined, { PCAPMESH_AGENT_NAME: 'alpha', PCAPMESH_AGENT_INDEX__ENABLED: 'false', PCAPMESH_AGENT_INDEX__SETTLE_SECONDS: '15' });
  assert.deepEqual(cfg.index, { enabled: false, settleSeconds: 15 });
  assert.throws(
    () => loadAgentConfig(undefined, { PCAPMESH_AGENT_NAME: 'alpha', PCAPMESH_AGENT_INDEX__SETTLE_SECONDS: '0' }),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => /^index\.settleSeconds: .*\(from PCAPMESH_AGENT_INDEX__SETTLE_SECONDS\)/.test(p)),
  );
});

test('captures come from a file or, as one YAML list, from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-cfg-'));
  writeFileSync(join(dir, 'a.yaml'), 'name: alpha\ncaptures:\n  - name: eth0\n    directory: /var/pcap/eth0\n    interface: eth0\n    maxBytes: 1000\n');
  const cfg = loadAgentConfig(join(dir, 'a.yaml'), { PCAPMESH_AGENT_MQTT__PASSWORD: '0042' });
  assert.equal(cfg.captures[0]!.rotateSeconds, 60);
  assert.equal(cfg.captures[0]!.maxBytes, 1000);
  assert.equal(cfg.mqtt.password, '42', 'YAML reads 0042 as a number; it is kept as text');
  const env = loadAgentConfig(undefined, { PCAPMESH_AGENT_NAME: 'b', PCAPMESH_AGENT_CAPTURES: '[{name: local, directory: ./data/pcap}]' });
  assert.deepEqual(
    env.captures.map((c) => [c.name, c.directory, c.interface]),
    [['local', './data/pcap', undefined]],
  );
});

test('every problem is listed: missing name, bad URL, duplicate capture names, unknown keys', () => {
  try {
    loadAgentConfig(undefined, {
      PCAPMESH_AGENT_MQTT__URL: 'http://x',
      PCAPMESH_AGENT_CAPTURES: '[{name: a, directory: /x}, {name: a, directory: /y, snaplen: -1, color: red}]',
    });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    const text = err.problems.join('\n');
    assert.match(text, /^name: /m);
    assert.match(text, /mqtt\.url: an mqtt:\/\/ or mqtts:\/\/ URL \(from PCAPMESH_AGENT_MQTT__URL\)/);
    assert.match(text, /captures\.1\.color: unknown key/);
    assert.match(text, /captures\.1\.snaplen: /);
  }
});

test('the packaged example configuration is valid', () => {
  const cfg = loadAgentConfig(join(repoRoot, 'packaging/agent.example.yaml'), {});
  assert.ok(cfg.captures.length > 0);
});
