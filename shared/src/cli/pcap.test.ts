import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCi, repoRoot } from '../util/testing.js';
import { writeCapture } from '../pcap/gen/output.js';
import { pcapBytes, payload } from '../pcap/reader.fixture.js';

/** Runs the pcapmesh-pcap bin from source (never a stale dist/), or as built when `built`. */
function cli(args: string[], built = false): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, PCAPMESH_FROM_SOURCE: built ? '0' : '1' };
  const r = spawnSync(process.execPath, [join(repoRoot, 'shared/bin/pcapmesh-pcap.js'), ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('usage errors exit 2 with the usage; failures exit 1 naming the file', () => {
  const none = cli([]);
  assert.equal(none.status, 2);
  assert.match(none.stdout, /usage: pcapmesh-pcap <command>[\s\S]*merge/);
  const unknown = cli(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const noOutput = cli(['merge', 'a.pcap']);
  assert.equal(noOutput.status, 2);
  assert.match(noOutput.stderr, /-o OUT is required[\s\S]*usage: pcapmesh-pcap merge/);
  const missing = cli(['info', '/nonexistent/x.pcap']);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /\/nonexistent\/x\.pcap: cannot open capture/);
});

test('info --json, merge --dedup and index through the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-cli-'));
  try {
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    writeFileSync(
      a,
      pcapBytes({
        packets: [
          { sec: 10, frac: 1, data: payload(60, 1) },
          { sec: 12, frac: 0, data: payload(60, 2) },
        ],
      }),
    );
    writeFileSync(
      b,
      pcapBytes({
        packets: [
          { sec: 10, frac: 300, data: payload(60, 1) },
          { sec: 11, frac: 0, data: payload(60, 3) },
        ],
      }),
    );

    const info = cli(['info', '--json', a, b]);
    assert.equal(info.status, 0, info.stderr);
    const parsed = JSON.parse(info.stdout) as { packets: number; first: { iso: string } }[];
    assert.deepEqual(
      parsed.map((x) => [x.packets, x.first.iso]),
      [
        [2, '1970-01-01T00:00:10.000001000Z'],
        [2, '1970-01-01T00:00:10.000300000Z'],
      ],
    );

    const out = join(dir, 'm.pcap');
    const merged = cli(['merge', '--dedup', '--json', '-o', out, a, b]);
    assert.equal(merged.status, 0, merged.stderr);
    assert.deepEqual((({ packets, duplicates, format }) => ({ packets, duplicates, format }))(JSON.parse(merged.stdout) as Record<string, unknown>), {
      packets: 3,
      duplicates: 1,
      format: 'pcap',
    });

    mkdirSync(join(dir, 'sub'));
    const big = join(dir, 'sub', 'big.pcap');
    writeCapture(big, { seed: 9, bytes: 1.5 * 1024 * 1024 });
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(big, old, old);
    const first = cli(['index', '--json', dir]);
    assert.equal(first.status, 0, first.stderr);
    const outcomes = JSON.parse(first.stdout) as { path: string; status: string; reason?: string }[];
    const byName = Object.fromEntries(outcomes.map((o) => [o.path.slice(dir.length + 1), o.status]));
    assert.deepEqual(byName, { 'a.pcap': 'skipped', 'b.pcap': 'skipped', 'm.pcap': 'skipped', 'sub/big.pcap': 'built' });
    assert.ok(existsSync(`${big}.pmidx`));
    const again = cli(['index', big]);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /^fresh +.*big\.pcap \(\d+ blocks/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the built bundle (npm run build) runs every command, and extract in worker threads equals extract in-thread', (t) => {
  const bundle = join(repoRoot, 'shared/dist/bundle/pcapmesh-pcap.js');
  if (!existsSync(bundle)) {
    if (inCi()) throw new Error(`${bundle} is missing: npm run build bundles the CLI (shared/scripts/bundle-cli.js)`);
    t.skip('shared/dist/bundle is not built (npm run build)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-bundle-'));
  try {
    const capture = join(dir, 'gen.pcap');
    writeCapture(capture, { seed: 5, bytes: 2 * 1024 * 1024 });
    for (const name of ['info', 'index', 'extract', 'merge', 'analyze']) {
      const help = cli([name, '--help'], true);
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`usage: pcapmesh-pcap ${name}`));
    }
    const outputs = ['0', '2'].map((workers) => {
      const out = join(dir, `w${workers}.pcap`);
      const r = cli(['extract', '--json', '--workers', workers, '-f', 'tcp or udp', '-o', out, capture, capture], true);
      assert.equal(r.status, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { packets: number }).packets > 100);
      return readFileSync(out);
    });
    assert.ok(outputs[0]!.equals(outputs[1]!), 'two worker threads wrote what one thread wrote');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('extract -o - writes the capture to stdout (the stats to stderr), byte for byte what -o FILE writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-stdout-'));
  try {
    const capture = join(dir, 'gen.pcap');
    writeCapture(capture, { seed: 6, bytes: 512 * 1024 });
    const file = join(dir, 'out.pcap');
    assert.equal(cli(['extract', '-f', 'udp', '-o', file, capture]).status, 0);
    const bin = join(repoRoot, 'shared/bin/pcapmesh-pcap.js');
    const env = { ...process.env, PCAPMESH_FROM_SOURCE: '1' };
    // Two inputs overlapping in time take the merge path; one takes the append path.
    for (const inputs of [[capture], [capture, capture]]) {
      const r = spawnSync(process.execPath, [bin, 'extract', '--json', '-f', 'udp', '-o', '-', ...inputs], { env, maxBuffer: 1 << 26 });
      assert.equal(r.status, 0, r.stderr.toString());
      const stats = JSON.parse(r.stderr.toString()) as { output: string; packets: number };
      assert.equal(stats.output, 'stdout');
      if (inputs.length === 1) assert.ok(r.stdout.equals(readFileSync(file)), 'stdout equals the file output');
      else assert.equal(stats.packets, 2 * (JSON.parse(cli(['info', '--json', file]).stdout) as { packets: number }[])[0]!.packets);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
