/**
 * TCP and UDP port usage: a packet counts for its source and destination port (once when they
 * are equal). Fixed arrays of 65 536 entries per transport: no allocation, no limit to hit.
 */
import type { DecodedPacket } from '../types.js';
import type { PortRow } from './report.js';

export class PortCounter {
  private readonly packets = [new Float64Array(65536), new Float64Array(65536)];
  private readonly bytes = [new Float64Array(65536), new Float64Array(65536)];

  /** Counts a TCP or UDP packet with a captured transport header; ignores anything else. */
  add(pkt: DecodedPacket, len: number): void {
    const t = pkt.ipProto === 6 ? 0 : pkt.ipProto === 17 ? 1 : -1;
    if (t < 0 || pkt.sport < 0 || pkt.dport < 0) return;
    this.count(t, pkt.sport, len);
    if (pkt.dport !== pkt.sport) this.count(t, pkt.dport, len);
  }

  /** The `n` busiest ports by packets (ties: lower port first, TCP before UDP). */
  rows(n: number): PortRow[] {
    const rows: PortRow[] = [];
    for (const t of [0, 1]) {
      const packets = this.packets[t]!;
      for (let port = 0; port < 65536; port++) {
        if (packets[port]! > 0) {
          rows.push({ transport: t === 0 ? 'tcp' : 'udp', port, packets: packets[port]!, bytes: this.bytes[t]![port]! });
        }
      }
    }
    return rows.sort((a, b) => b.packets - a.packets || a.port - b.port).slice(0, n);
  }

  private count(t: number, port: number, len: number): void {
    const p = this.packets[t]!;
    const b = this.bytes[t]!;
    p[port] = p[port]! + 1;
    b[port] = b[port]! + len;
  }
}
