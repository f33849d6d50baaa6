/**
 * A small filesystem of one test's own for the disk-full faults: a tmpfs of `mib` MiB mounted under
 * the test's scratch directory (root only: `mount -t tmpfs -o size=…`), unmounted at the end of the
 * test whatever happened. Where it cannot be mounted (not root, no tmpfs) the test is skipped, or
 * fails under CI=true naming why.
 *
 * Also: a filler that keeps such a disk full (what another program filling the disk does), pcap
 * ring files checked for the damage a full disk leaves, and a network namespace whose lo carries
 * only the test's own UDP traffic at a set rate (the machine's lo carries every other test's too:
 * bursts that would make the fill rate of a capture on it unknowable).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findTool } from '@pcapmesh/shared/util/testing';
import { inCi, type TestScope } from '../../integration/harness.js';

/** Mounts a tmpfs of `mib` MiB at `<scope.dir>/<name>` (mode 755); null when skipped. */
export async function smallDisk(scope: TestScope, name: string, mib: number): Promise<string | null> {
  const dir = join(scope.dir, name);
  mkdirSync(dir, { recursive: true });
  let problem: string | null = null;
  if (process.getuid?.() !== 0) problem = 'mounting a tmpfs needs root';
  else {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mib}m,mode=0755`, `pcapmesh-${name}`, dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    } catch (err) {
      problem = `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`;
    }
  }
  if (problem !== null) {
    const message = `a ${mib} MiB tmpfs for the disk-full test: ${problem}`;
    if (inCi()) throw new Error(`${message}; CI=true requires it (run the tests as root)`);
    scope.t.skip(message);
    return null;
  }
  // Unprivileged readers (tcpdump after -Z) must reach the mount through the scratch directory.
  chmodSync(scope.dir, 0o755);
  scope.defer(async () => {
    // Processes are killed before the cleanups run; a descriptor may still be closing: retry, then detach.
    for (let attempt = 0; ; attempt++) {
      try {
        execFileSync('umount', [dir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
        return;
      } catch (err) {
        if (attempt >= 10) {
          // Still busy (a descriptor left open by a failing test): detached now, freed when it closes.
          execFileSync('umount', ['-l', dir], { stdio: 'ignore', timeout: 30_000 });
          console.error(`umount ${dir}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}; detached (umount -l)`);
          return;
        }
        await sleep(500);
      }
    }
  });
  return dir;
}

/** Free bytes of the filesystem holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * Keeps the filesystem of `file` full: appends to `file` until the disk refuses, and again every
 * `everyMs` (space other writers free is taken back at once). `stop()` ends it; the file stays
 * until the caller removes it.
 */
export function diskFiller(file: string, everyMs = 100): { bytes: () => number; stop: () => void } {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  let bytes = 0;
  const fill = () => {
    // 64 KiB writes, then 4 KiB ones for the last pages.
    for (const size of [chunk.length, 4096]) {
      for (;;) {
        try {
          const n = writeSync(fd, chunk, 0, size);
          bytes += n;
          if (n < size) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  };
  fill();
  const timer = setInterval(fill, everyMs);
  let stopped = false;
  return {
    bytes: () => bytes,
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      closeSync(fd);
    },
  };
}

/**
 * The damage a full disk leaves in a classic pcap file written by tcpdump: null when the file is
 * whole (a 24-byte header, then complete records to the last byte), else what is wrong.
 */
export function pcapDamage(file: string): string | null {
  const buf = readFileSync(file);
  if (buf.length === 0) return 'empty (not even a header)';
  if (buf.length < 24) return `${buf.length} bytes: a torn header`;
  const magic = buf.readUInt32LE(0);
  if (magic !== 0xa1b23c4d && magic !== 0xa1b2c3d4) return `magic ${magic.toString(16)}`;
  let o = 24;
  let records = 0;
  while (o < buf.length) {
    if (o + 16 > buf.length) return `a torn record header at ${o} after ${records} records`;
    const incl = buf.readUInt32LE(o + 8);
    if (o + 16 + incl > buf.length) return `a torn record at ${o} (${incl} bytes announced, ${buf.length - o - 16} there) after ${records} records`;
    o += 16 + incl;
    records++;
  }
  return null;
}

/**
 * A network namespace of the test's own (`ip netns add`), its lo up: a capture on its lo sees only
 * the traffic the test makes there, none of the other tests' on the machine's lo. Deleted at the
 * end. Null when skipped (a failure under CI=true).
 */
export async function privateLo(scope: TestScope): Promise<{ ns: string; ip: string } | null> {
  const ip = findTool('ip');
  const ns = `pcapmesh-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  let problem: string | null = ip === null ? 'the ip command (iproute2) is missing' : process.getuid?.() !== 0 ? 'ip netns needs root' : null;
  if (problem === null) {
    try {
      execFileSync(ip!, ['netns', 'add', ns], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
      scope.defer(() => {
        execFileSync(ip!, ['netns', 'del', ns], { stdio: 'ignore', timeout: 30_000 });
      });
      execFileSync(ip!, ['netns', 'exec', ns, ip!, 'link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    } catch (err) {
      problem = `ip netns failed: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`;
    }
  }
  if (problem !== null) {
    const message = `a network namespace for the capture: ${problem}`;
    if (inCi()) throw new Error(`${message}; CI=true requires it (run the tests as root)`);
    scope.t.skip(message);
    return null;
  }
  return { ns, ip: ip! };
}

/**
 * The program the agent runs as tcpdump (config capture.tcpdumpPath): the real tcpdump, in the
 * namespace (`ip netns exec` execs it, so the agent's signals reach tcpdump itself).
 */
export function tcpdumpInNamespace(dir: string, lo: { ns: string; ip: string }, tcpdump: string): string {
  const path = join(dir, 'tcpdump-in-netns');
  writeFileSync(path, `#!/bin/sh\nexec ${lo.ip} netns exec ${lo.ns} ${tcpdump} "$@"\n`, { mode: 0o755 });
  return path;
}

/** Sends UDP datagrams on lo at a set rate in 20 ms slices (a stall is caught up only partly); prints "sent N" at exit. */
const TRAFFIC = `
const [rate, total, size] = process.argv.slice(1).map(Number);
const dgram = require('node:dgram');
const sink = dgram.createSocket('udp4');
sink.on('message', () => undefined);
sink.bind(0, '127.0.0.1', () => {
  const out = dgram.createSocket('udp4');
  const datagram = Buffer.alloc(size, 0x61);
  let sent = 0, due = 0, last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    due += (rate * Math.min(200, now - last)) / 1000;
    last = now;
    while (due >= size && sent < total) { out.send(datagram, sink.address().port, '127.0.0.1'); sent += size; due -= size; }
    if (sent >= total) { clearInterval(timer); setTimeout(() => { console.log('sent ' + sent); process.exit(0); }, 200); }
  }, 20);
});
`;

/**
 * Sends `totalBytes` of UDP on the namespace's lo at about `bytesPerSecond` (1400-byte datagrams to
 * a socket of its own, so no ICMP comes back), from a process in the namespace; resolves with the bytes sent.
 */
export async function trafficInNamespace(
  scope: TestScope,
  lo: { ns: string; ip: string },
  bytesPerSecond: number,
  totalBytes: number,
  timeoutMs: number,
): Promise<number> {
  const proc = scope.spawn({
    name: `traffic-${Date.now()}`,
    command: lo.ip,
    args: ['netns', 'exec', lo.ns, process.execPath, '-e', TRAFFIC, String(bytesPerSecond), String(totalBytes), '1400'],
    cwd: scope.dir,
  });
  const line = await proc.waitForLine(/^sent \d+$/, timeoutMs);
  return Number(line.slice(5));
}
