/**
 * A fresh Debian 12 system for the packaging test: a debootstrap root (cached as a tarball between
 * runs) booted with `systemd-nspawn --boot`, so the packages' units run under the container's own
 * systemd exactly as on a server. Commands run inside through nsenter (the container shares the
 * host's network, so its services are reached on 127.0.0.1 at the ports the test chose).
 *
 * Needs root, debootstrap, systemd-nspawn and nsenter (scripts/install-deps.sh installs them).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../integration/harness/wait.js';

/** Where the root tarball is kept between runs (outside the clone). */
export const ROOT_CACHE = process.env.PCAPMESH_TEST_ROOT_CACHE ?? '/var/cache/pcapmesh-test/bookworm-root.tar';
const MIRROR = process.env.PCAPMESH_TEST_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
/** Packages beyond minbase: systemd to boot, adduser for the postinst, dbus for systemctl. */
const INCLUDE = 'systemd,systemd-sysv,dbus,adduser';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a host command to completion; never throws for a non-zero exit (the caller asserts). */
export function runHost(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails with the command's output when it did not exit 0. */
export function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r;
}

/** The cached root tarball, made with debootstrap when missing. Returns how long that took (0 when cached). */
export async function ensureRootTarball(): Promise<number> {
  if (existsSync(ROOT_CACHE)) return 0;
  const started = Date.now();
  mkdirSync(join(ROOT_CACHE, '..'), { recursive: true });
  const dir = mkdtempSync(join(join(ROOT_CACHE, '..'), 'debootstrap-'));
  try {
    ok(await runHost('debootstrap', ['--variant=minbase', `--include=${INCLUDE}`, 'bookworm', dir, MIRROR], { timeoutMs: 1_200_000 }), 'debootstrap bookworm');
    const temp = `${ROOT_CACHE}.${process.pid}.tmp`;
    ok(await runHost('tar', ['-C', dir, '-cf', temp, '.']), 'tar of the new root');
    renameSync(temp, ROOT_CACHE);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return Date.now() - started;
}

/** The children of a process (from /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`, { withFileTypes: false })) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // the task ended
    }
  }
  return out;
}

export class Container {
  private nspawn: ChildProcess | undefined;
  private leader = 0;
  private log = '';

  private constructor(readonly root: string) {}

  /** Unpacks the cached root into a new directory under `parent`. */
  static async unpack(parent: string): Promise<Container> {
    const root = mkdtempSync(join(parent, 'bookworm-'));
    ok(await runHost('tar', ['-C', root, '-xf', ROOT_CACHE]), 'unpacking the cached root');
    return new Container(root);
  }

  /** Boots the root with systemd-nspawn and waits until its systemd has finished starting up. */
  async boot(name: string): Promise<void> {
    // --register/--keep-unit: no machined needed on the host; the host's network is shared.
    const child = spawn('systemd-nspawn', ['--quiet', '--register=no', '--keep-unit', `--machine=${name}`, '--console=passive', '-D', this.root, '--boot'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.nspawn = child;
    child.stdout.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8000)));
    child.stderr.on('data', (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8000)));
    this.leader = await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`systemd-nspawn exited ${child.exitCode}: ${this.log}`);
        const pid = child.pid === undefined ? [] : childrenOf(child.pid);
        return pid.find((p) => readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'systemd');
      },
      { what: `the container's systemd (nspawn output: ${this.log || 'none'})`, timeoutMs: 60_000, stopOn: (e) => String(e).includes('exited') },
    );
    const state = await eventually(
      async () => {
        const r = await this.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 120_000 });
        const s = r.stdout.trim();
        return s === 'running' || s === 'degraded' ? s : undefined;
      },
      { what: 'the container to finish booting', timeoutMs: 180_000, intervalMs: 1000 },
    );
    if (state === 'degraded') {
      const failed = await this.exec(['systemctl', '--failed', '--no-legend']);
      process.stderr.write(`container booted degraded (not our units): ${failed.stdout}\n`);
    }
  }

  /** Runs a command inside the booted container (root, clean environment). */
  exec(cmd: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<Run> {
    if (!this.leader) throw new Error('the container is not booted');
    const env = Object.entries({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', ...opts.env }).map(
      ([k, v]) => `${k}=${v}`,
    );
    return runHost('nsenter', ['-t', String(this.leader), '-m', '-u', '-i', '-p', '-r', '-w', '--', '/usr/bin/env', '-i', ...env, ...cmd], opts);
  }

  /** exec that must succeed. */
  async must(cmd: string[], opts: { timeoutMs?: number; env?: Record<string, string> } = {}): Promise<string> {
    return ok(await this.exec(cmd, opts), cmd.join(' ')).stdout;
  }

  /** A path inside the container as seen from the host. */
  path(inside: string): string {
    return join(this.root, inside);
  }

  /** Powers the container off (SIGKILL after 30 s) and deletes its root. */
  async destroy(): Promise<void> {
    const child = this.nspawn;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM'); // nspawn asks the container's systemd to halt
      const done = await Promise.race([exited.then(() => true), sleep(30_000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    // Nothing is mounted on the host side (nspawn mounts in its own namespace); stay on this filesystem anyway.
    spawnSync('rm', ['-rf', '--one-file-system', this.root]);
  }
}
