import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, requireTool } from '@pcapmesh/shared/util/testing';

test('packaging/pcapmesh-agent.service passes systemd-analyze verify', (t) => {
  const analyze = requireTool(t, 'systemd-analyze');
  if (!analyze) return;
  const unit = readFileSync(join(repoRoot, 'packaging/pcapmesh-agent.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/pcapmesh-agent run --config \/etc\/pcapmesh\/agent\.yaml$/m);
  assert.match(unit, /^AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN$/m);
  // /usr/bin/pcapmesh-agent is not installed here: point ExecStart at a binary that exists so that
  // verify checks everything else.
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-unit-'));
  try {
    const file = join(dir, 'pcapmesh-agent.service');
    writeFileSync(file, unit.replace(/^ExecStart=\/usr\/bin\/pcapmesh-agent /m, `ExecStart=${process.execPath} `));
    const r = spawnSync(analyze, ['verify', file], { encoding: 'utf8' });
    const complaints = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.includes('pcapmesh-agent.service'));
    assert.deepEqual(complaints, [], `systemd-analyze verify complained:\n${r.stdout}${r.stderr}`);
    assert.equal(r.status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
