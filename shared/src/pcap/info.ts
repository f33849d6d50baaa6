/**
 * Per-file capture facts like `capinfos -c -a -e -d -s -t -E`: format, link types, packets,
 * bytes, earliest and latest packet time (capinfos' "first"/"last" are the earliest/latest), and
 * any damage. Reads the whole file once (fast path of the reader; no hashing).
 */
import { statSync } from 'node:fs';
import { openCapture } from './reader.js';
import { formatTimestamp } from './timestamp.js';
import type { CaptureProblem, Timestamp } from './types.js';

/** tcpdump.org short names of the link types we are likely to meet. */
const LINK_TYPE_NAMES: Record<number, string> = {
  0: 'NULL',
  1: 'EN10MB',
  9: 'PPP',
  12: 'RAW12',
  50: 'PPP_HDLC',
  101: 'RAW',
  104: 'C_HDLC',
  105: 'IEEE802_11',
  108: 'LOOP',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIO',
  228: 'IPV4',
  229: 'IPV6',
  239: 'NFLOG',
  253: 'NETLINK',
  258: 'PKTAP',
  271: 'VSOCK',
  276: 'LINUX_SLL2',
};

export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}

export interface CaptureInfo {
  path: string;
  format: 'pcap' | 'pcapng';
  /** capinfos' file type name: pcap, nsecpcap or pcapng. */
  fileType: 'pcap' | 'nsecpcap' | 'pcapng';
  nanosecond: boolean;
  linkTypes: { id: number; name: string }[];
  snaplen: number;
  packets: number;
  /** File size. */
  fileBytes: number;
  /** Sum of original (on-the-wire) lengths: capinfos "data size". */
  dataBytes: number;
  /** Sum of captured lengths (what the file holds of the packets). */
  capturedBytes: number;
  /** Earliest and latest packet time, null without packets. */
  first: Timestamp | null;
  last: Timestamp | null;
  /** False when some packet is earlier than the one before it (capinfos "strict time order"). */
  ordered: boolean;
  problems: CaptureProblem[];
}

/**
 * @throws CaptureFormatError / fs errors (nothing valid in the file), like openCapture.
 * @example
 * const info = captureInfo('a.pcapng');
 * console.log(info.packets, formatTimestamp(info.first!, info.nanosecond ? 9 : 6));
 */
export function captureInfo(path: string): CaptureInfo {
  const reader = openCapture(path);
  try {
    const fileBytes = statSync(path).size;
    let packets = 0;
    let dataBytes = 0;
    let capturedBytes = 0;
    let ordered = true;
    // Plain numbers on the hot path: no allocation per packet.
    let minSec = 0,
      minNsec = 0,
      maxSec = 0,
      maxNsec = 0,
      prevSec = 0,
      prevNsec = 0;
    for (let p = reader.next(); p; p = reader.next()) {
      const sec = p.sec;
      const nsec = p.nsec;
      if (packets === 0) {
        minSec = maxSec = sec;
        minNsec = maxNsec = nsec;
      } else {
        if (sec < prevSec || (sec === prevSec && nsec < prevNsec)) ordered = false;
        if (sec < minSec || (sec === minSec && nsec < minNsec)) {
          minSec = sec;
          minNsec = nsec;
        }
        if (sec > maxSec || (sec === maxSec && nsec > maxNsec)) {
          maxSec = sec;
          maxNsec = nsec;
        }
      }
      prevSec = sec;
      prevNsec = nsec;
      packets++;
      dataBytes += p.origLen;
      capturedBytes += p.caplen;
    }
    const first: Timestamp | null = packets > 0 ? { sec: minSec, nsec: minNsec } : null;
    const last: Timestamp | null = packets > 0 ? { sec: maxSec, nsec: maxNsec } : null;
    const fileType = reader.format === 'pcapng' ? 'pcapng' : reader.nanosecond ? 'nsecpcap' : 'pcap';
    return {
      path,
      format: reader.format,
      fileType,
      nanosecond: reader.nanosecond,
      linkTypes: reader.linkTypes.map((id) => ({ id, name: linkTypeName(id) })),
      snaplen: reader.snaplen,
      packets,
      fileBytes,
      dataBytes,
      capturedBytes,
      first,
      last,
      ordered,
      problems: [...reader.problems],
    };
  } finally {
    reader.close();
  }
}

/** Human-readable report of one file (the CLI's default output). */
export function formatInfo(info: CaptureInfo): string {
  const digits = info.nanosecond ? 9 : 6;
  const time = (t: Timestamp | null) => (t ? formatTimestamp(t, digits) : 'n/a');
  const lines = [
    `File:        ${info.path}`,
    `Format:      ${info.fileType}${info.format === 'pcap' ? ` (${info.nanosecond ? 'ns' : 'µs'})` : ''}`,
    `Link types:  ${info.linkTypes.map((l) => `${l.id} (${l.name})`).join(', ') || 'none'}`,
    `Snaplen:     ${info.snaplen}`,
    `Packets:     ${info.packets}`,
    `File size:   ${info.fileBytes} bytes`,
    `Data size:   ${info.dataBytes} bytes on the wire, ${info.capturedBytes} captured`,
    `First:       ${time(info.first)}`,
    `Last:        ${time(info.last)}`,
    `In order:    ${info.ordered ? 'yes' : 'no'}`,
  ];
  for (const p of info.problems) lines.push(`Problem:     at ${p.offset}: ${p.reason}`);
  return lines.join('\n');
}

/** JSON-friendly form: times as ISO strings with ns digits and exact decimal seconds. */
export function infoToJson(info: CaptureInfo): Record<string, unknown> {
  const time = (t: Timestamp | null) => (t ? { iso: formatTimestamp(t, 9), sec: t.sec, nsec: t.nsec } : null);
  return { ...info, first: time(info.first), last: time(info.last) };
}
