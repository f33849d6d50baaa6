/**
 * Builds the health report (systeminformation 5.33 + node:os): CPU usage and cores, memory, load,
 * uptime, the filesystem of every capture directory, per-interface counters, the capture
 * processes' state, the clock offset to the collector and the spool's drop count.
 *
 * systeminformation's first currentLoad() measures from boot, so `prime()` takes that baseline
 * once and each report covers the time since the previous one (STACK.md pitfall 8). Packet
 * counters are not in networkStats(); on Linux they come from /sys/class/net/IF/statistics.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, uptime } from 'node:os';
import si from 'systeminformation';
import type { Body, HealthMessage } from '@pcapmesh/shared/wire';
import { localDisks } from './disks.js';

export interface HealthSources {
  /** Capture directories whose filesystems are reported. */
  directories: string[];
  captures: () => HealthMessage['captures'];
  clockOffsetMs: () => number | null;
  spoolDropped: () => number;
}

const MAX_INTERFACES = 256;

export class HealthCollector {
  private primed = false;

  constructor(private readonly sources: HealthSources) {}

  /** Takes the CPU baseline so the first report is a real measurement. */
  async prime(): Promise<void> {
    await si.currentLoad();
    this.primed = true;
  }

  async collect(): Promise<Body<'health'>> {
    if (!this.primed) await this.prime();
    const [load, mem, nets] = await Promise.all([si.currentLoad(), si.mem(), si.networkStats('*')]);
    const [l1, l5, l15] = loadavg();
    return {
      cpu: { usage: clamp(load.currentLoad, 0, 100), cores: cpus().length },
      memory: { total: mem.total, used: Math.max(0, mem.total - mem.available), available: mem.available },
      load: [l1 ?? 0, l5 ?? 0, l15 ?? 0],
      uptime: uptime(),
      disks: localDisks(this.sources.directories),
      interfaces: nets.slice(0, MAX_INTERFACES).map((n) => ({
        name: n.iface,
        // Loopback and tun devices report operstate "unknown" while carrying traffic.
        up: n.operstate === 'up' || n.operstate === 'unknown',
        rxBytes: counter(n.rx_bytes),
        txBytes: counter(n.tx_bytes),
        rxPackets: sysCounter(n.iface, 'rx_packets'),
        txPackets: sysCounter(n.iface, 'tx_packets'),
        rxDropped: counter(n.rx_dropped),
        rxErrors: counter(n.rx_errors),
      })),
      captures: this.sources.captures(),
      clockOffsetMs: this.sources.clockOffsetMs(),
      spoolDropped: this.sources.spoolDropped(),
    };
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Number.isFinite(n) ? Math.min(hi, Math.max(lo, n)) : lo;
}

function counter(n: number | null | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0;
}

function sysCounter(iface: string, name: string): number {
  if (process.platform !== 'linux' || !/^[\w.:@-]+$/.test(iface)) return 0;
  try {
    return counter(Number(readFileSync(`/sys/class/net/${iface}/statistics/${name}`, 'utf8')));
  } catch {
    return 0;
  }
}
