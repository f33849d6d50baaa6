import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryCache } from '../cache/memory.js';
import { ACCESS_TOKEN_KEY, AccessTokens } from '../domain/accounts/access-tokens.js';
import { KnownClients } from '../domain/accounts/known-clients.js';
import { loadSecretSet } from '../storage/auth-secrets.repo.js';
import { openDb } from '../storage/db.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const NODE_ARGS = ['--conditions=pcapmesh-src', '--import', import.meta.resolve('tsx'), MAIN];

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `pcapmesh ARGS`; `onStdout` may act on the live process (e.g. signal it once ready). */
function pcapmesh(args: string[], opts: { env?: NodeJS.ProcessEnv; onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    for (const key of Object.keys(env)) if (key.startsWith('PCAPMESH_') || ['DATABASE_URL', 'REDIS_URL', 'MQTT_URL'].includes(key)) delete env[key];
    Object.assign(env, opts.env);
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout, (s) => child.kill(s));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Generous: PGlite start-up takes tens of seconds on a loaded machine.
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pcapmesh-cli-'));
}

test('--help prints the usage and exits 0', async () => {
  const run = await pcapmesh(['--help']);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /pcapmesh collector \[--config FILE\]/);
  assert.match(run.stdout, /pcapmesh sensor add NAME/);
});

test('bad usage exits 2 with a message', async () => {
  const unknown = await pcapmesh(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);

  const noForce = await pcapmesh(['db', 'reset'], { env: { PCAPMESH_DATABASE__URL: 'memory://' } });
  assert.equal(noForce.code, 2);
  assert.match(noForce.stderr, /--force/);

  const noName = await pcapmesh(['sensor', 'add'], { env: { PCAPMESH_DATABASE__URL: 'memory://' } });
  assert.equal(noName.code, 2);
  assert.match(noName.stderr, /needs a NAME/);
});

test('a config file with a bad key exits 2 naming every bad key', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'collector.yaml');
    writeFileSync(file, 'http:\n  prot: 8080\nmqtt:\n  port: seventy\n');
    const run = await pcapmesh(['collector', '--config', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /http\.prot/);
    assert.match(run.stderr, /mqtt\.port/);
    assert.equal(run.stdout, '', 'nothing on stdout');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('collector prints its ready line with the real ports and exits 0 on SIGTERM', async () => {
  const dir = tempDir();
  try {
    const file = join(dir, 'collector.yaml');
    writeFileSync(file, JSON.stringify({ dataDir: dir, http: { port: 0 }, mqtt: { port: 0 }, database: { url: 'memory://' } }));
    let ready: { event: string; http: string; mqtt: number } | undefined;
    let healthStatus = 0;
    const run = await pcapmesh(['collector', '--config', file], {
      onStdout: (text, kill) => {
        if (ready || !text.includes('\n')) return;
        ready = JSON.parse(text.split('\n')[0]!) as typeof ready;
        fetch(`${ready!.http}/api/v1/health`).then(
          (res) => {
            healthStatus = res.status;
            kill('SIGTERM');
          },
          () => kill('SIGTERM'),
        );
      },
    });
    assert.ok(ready, `ready line printed; stderr:\n${run.stderr.slice(-2000)}`);
    assert.equal(ready.event, 'ready');
    assert.match(ready.http, /^http:\/\/127\.0\.0\.1:[1-9]\d*$/);
    assert.ok(Number.isInteger(ready.mqtt) && ready.mqtt > 0);
    assert.equal(healthStatus, 200);
    assert.equal(run.code, 0, `clean exit; stderr:\n${run.stderr.slice(-2000)}`);
    assert.match(run.stderr, /API token written to /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sensor add prints the secret once; a second add of the same name fails', async () => {
  const dir = tempDir();
  try {
    const env = { PCAPMESH_DATA_DIR: dir, PCAPMESH_LOG__LEVEL: 'warn' };
    const first = await pcapmesh(['sensor', 'add', 'edge-1', '--location', 'lab'], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^registered sensor edge-1 \(location lab\)\nsecret: \S{16,}\n/);
    const again = await pcapmesh(['sensor', 'add', 'edge-1'], { env });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /edge-1/);
    const migrate = await pcapmesh(['db', 'migrate'], { env });
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /0 migration\(s\) applied/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys rotate keeps the old keys as previous ones and prints no key', async () => {
  const dir = tempDir();
  try {
    const env = { PCAPMESH_DATA_DIR: dir, PCAPMESH_LOG__LEVEL: 'warn' };
    const none = await pcapmesh(['keys', 'rotate'], { env });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /no keys yet/);
    // The keys a first start creates, then the rotation.
    const db = await openDb({ dataDir: dir });
    const before = await AccessTokens.open({ db, minutes: 15 });
    const token = await before.issue({ username: 'ana', role: 'admin' });
    await KnownClients.open({ db, cache: new MemoryCache('t:'), days: 30 });
    const oldKey = (await loadSecretSet(db, ACCESS_TOKEN_KEY))!.current;
    await db.close();
    const rotated = await pcapmesh(['keys', 'rotate'], { env });
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /rotated the keys of access tokens \(JWT\) and device cookies/);
    const after = await openDb({ dataDir: dir });
    try {
      const set = (await loadSecretSet(after, ACCESS_TOKEN_KEY))!;
      assert.equal(set.previous?.value, oldKey);
      assert.ok(!rotated.stdout.includes(set.current) && !rotated.stderr.includes(set.current), 'no key printed');
      assert.deepEqual(await (await AccessTokens.open({ db: after, minutes: 15 })).verify(token.token), { username: 'ana', role: 'admin' });
    } finally {
      await after.close();
    }
    const bad = await pcapmesh(['keys', 'spin'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown keys command "spin" \(rotate\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
