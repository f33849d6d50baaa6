import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { repoRoot } from '../util/testing.js';
import { writeRollingCaptures } from '../pcap/gen/output.js';
import { sidecarPath } from '../pcap/sidecar/index.js';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PCAPMESH_FROM_SOURCE: '1' };
  const r = spawnSync(process.execPath, [join(repoRoot, 'shared/bin/pcapmesh-pcap.js'), ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const T0 = 1_700_000_000;

test('estimate: exact for a host over whole files, equal to what extract writes; an old-format sidecar is named and rebuilt', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-cli-estimate-'));
  try {
    const hosts = Array.from({ length: 200 }, (_, i) => `10.64.0.${i + 1}`);
    const { files } = writeRollingCaptures(join(dir, 'in'), { seed: 4, packets: 12_000, start: T0, duration: 240, hosts }, 60);
    assert.equal(cli(['index', '--settle', '0', join(dir, 'in')]).status, 0);
    const window = ['--from', String(T0 + 60), '--to', String(T0 + 180)];
    const filter = ['-f', 'host 10.64.0.7'];
    const est = cli(['estimate', '--json', ...window, ...filter, join(dir, 'in')]);
    assert.equal(est.status, 0, est.stderr);
    const e = JSON.parse(est.stdout) as {
      packets: number;
      bytes: number;
      exact: boolean;
      files: number;
      indexedFiles: number;
      bytesToRead: number;
      bytesInWindow: number;
    };
    assert.deepEqual([e.files, e.indexedFiles, e.exact], [2, 2, true]);
    assert.ok(e.bytesToRead < e.bytesInWindow / 10, `reads ${e.bytesToRead} of ${e.bytesInWindow}`);
    const ex = cli(['extract', '--json', ...window, ...filter, '-o', join(dir, 'out.pcap'), join(dir, 'in')]);
    assert.equal(ex.status, 0, ex.stderr);
    const x = JSON.parse(ex.stdout) as { packets: number; bytes: number };
    assert.ok(x.packets > 0);
    assert.deepEqual([e.packets, e.bytes], [x.packets, x.bytes]);

    // A port filter is decided per block: an upper bound, said so.
    const port = cli(['estimate', ...window, '-f', 'port 53', join(dir, 'in')]);
    assert.match(port.stdout, /^at most \d+ packets/);

    // An older format (the version byte of the magic): reported, counted as unindexed, rebuilt by `index`.
    const side = sidecarPath(files[1]!);
    const old = Uint8Array.from(readFileSync(side));
    old[6] = 2;
    const headerBytes = new DataView(old.buffer).getUint32(12, true);
    new DataView(old.buffer).setUint32(headerBytes - 4, crc32(old.subarray(0, headerBytes - 4)), true);
    writeFileSync(side, old);
    const stale = cli(['estimate', ...window, ...filter, join(dir, 'in')]);
    assert.match(stale.stdout, /not indexed: .*: index format version 2 is older than this version's 3/);
    const rebuilt = cli(['index', '--settle', '0', join(dir, 'in')]);
    assert.match(rebuilt.stdout, /rebuilt .*: index format version 2 is older than this version's 3/);
    assert.match(cli(['estimate', ...window, ...filter, join(dir, 'in')]).stdout, /^exactly /);

    const bad = cli(['estimate', '-f', 'host', join(dir, 'in')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--filter: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
