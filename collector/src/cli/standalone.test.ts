import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inCi, pcapsDir } from '@pcapmesh/shared/util/testing';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const SAMPLE = 'derived/formats/http-packets2-snap96.pcap';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('standalone: the local agent shows online with health and availability within 30 s; SIGINT stops both', { timeout: 120_000 }, async (t) => {
  const sample = join(pcapsDir(), SAMPLE);
  if (!existsSync(sample)) {
    if (inCi()) throw new Error(`${sample} missing; CI=true requires the shared capture corpus`);
    t.skip(`${sample} missing (set PCAPMESH_PCAPS)`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-standalone-'));
  mkdirSync(join(dir, 'pcap'));
  copyFileSync(sample, join(dir, 'pcap', 'sample.pcap'));
  const config = join(dir, 'collector.yaml');
  writeFileSync(config, JSON.stringify({ dataDir: dir, http: { port: 0 }, mqtt: { port: 0 }, database: { url: 'memory://' } }));
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PCAPMESH_') && !/^(DATABASE|REDIS|MQTT)_URL$/.test(k)));
  const child = spawn(process.execPath, ['--conditions=pcapmesh-src', '--import', import.meta.resolve('tsx'), MAIN, 'standalone', '--config', config], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  try {
    const started = Date.now();
    while (!stdout.includes('\n') && Date.now() - started < 60_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    assert.ok(stdout.includes('\n'), `ready line; stderr:\n${stderr.slice(-3000)}`);
    const ready = JSON.parse(stdout.split('\n')[0]!) as { event: string; http: string; mqtt: number };
    assert.equal(ready.event, 'ready');
    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();
    // First start: the operator learns how to sign in to the dashboard, once. stderr is a pipe here
    // (as under systemd, where it ends in the journal): the password goes to a 0600 file, only its path to stderr.
    // (written to stderr just before the ready line on stdout; the two pipes may arrive in either order)
    const printed = /user "admin" created; its password is in (\S+) \(mode 0600/;
    for (let i = 0; i < 50 && !printed.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
    const passwordFile = printed.exec(stderr)?.[1];
    assert.equal(passwordFile, join(dir, 'admin-password'), `the password file is named; stderr:\n${stderr.slice(-3000)}`);
    assert.equal(statSync(passwordFile).mode & 0o777, 0o600);
    const password = readFileSync(passwordFile, 'utf8').trim();
    assert.ok(password.length >= 10 && !stderr.includes(password) && !stdout.includes(password), 'the password appears nowhere but in its file');
    const login = await fetch(`${ready.http}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    assert.equal(login.status, 200, 'admin signs in with the printed password');
    const api = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${ready.http}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, `${path}: ${res.status}`);
      return (await res.json()) as T;
    };

    let sensor: { status: string; pcap: { sources: { files: number; oldest: unknown }[] } } | undefined;
    let points = 0;
    const readyAt = Date.now();
    while (Date.now() - readyAt < 30_000) {
      const current = await api<NonNullable<typeof sensor>>('/sensors/local');
      sensor = current;
      points = (await api<{ points: unknown[] }>('/sensors/local/health')).points.length;
      if (current.status === 'online' && points > 0 && current.pcap.sources.some((s) => s.files === 1)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(sensor?.status, 'online', `local online; stderr:\n${stderr.slice(-3000)}`);
    assert.ok(points > 0, 'a health sample is stored');
    assert.ok(
      sensor?.pcap.sources.some((s) => s.files === 1 && s.oldest !== null),
      'availability of the watched directory',
    );
  } finally {
    child.kill('SIGINT');
    const { code } = await exited;
    const agentPid = /"pid":(\d+)[^\n]*local agent started/.exec(stderr)?.[1];
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `clean exit; stderr:\n${stderr.slice(-3000)}`);
    assert.ok(agentPid, 'the agent was started');
    assert.equal(alive(Number(agentPid)), false, 'the agent process is gone');
  }
});
