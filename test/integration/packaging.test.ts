/**
 * The files operators install: the example configuration must load in the real collector config
 * loader (a stale example is a support ticket), and the systemd unit must pass `systemd-analyze
 * verify` (unknown directives and typos are errors there).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadCollectorConfig } from '../../collector/src/config.js';
import { repoRoot, requireTool } from './harness.js';

test('packaging/collector.example.yaml is a valid collector configuration', () => {
  const config = loadCollectorConfig({ file: join(repoRoot, 'packaging/collector.example.yaml'), env: {} });
  assert.equal(config.dataDir, '/var/lib/pcapmesh');
  assert.equal(config.mqtt.mode, 'embedded');
  assert.equal(config.http.host, '127.0.0.1');
});

test('packaging/pcapmesh-collector.service passes systemd-analyze verify', (t) => {
  const analyze = requireTool(t, 'systemd-analyze');
  if (!analyze) return;
  const unit = readFileSync(join(repoRoot, 'packaging/pcapmesh-collector.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/pcapmesh collector --config \/etc\/pcapmesh\/collector\.yaml$/m);
  // The package's /usr/bin/pcapmesh is not installed here: point ExecStart at a binary that exists,
  // so verify checks everything else.
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-unit-'));
  try {
    const file = join(dir, 'pcapmesh-collector.service');
    writeFileSync(file, unit.replace(/^ExecStart=\/usr\/bin\/pcapmesh /m, `ExecStart=${process.execPath} `));
    const r = spawnSync(analyze, ['verify', file], { encoding: 'utf8' });
    const complaints = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('pcapmesh-collector.service'));
    assert.deepEqual(complaints, [], `systemd-analyze verify complained:\n${r.stdout}${r.stderr}`);
    assert.equal(r.status, 0, `systemd-analyze verify exit ${r.status}:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
