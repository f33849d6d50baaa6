/**
 * The analysis accumulator: feed it every packet (view + decoded headers) of one or more
 * captures, then ask for the report. Memory is bounded whatever the input size (see
 * conv-store.ts, bounded-table.ts and timeline.ts); per packet it allocates nothing, except a
 * string for a DNS/SNI/HTTP name not seen before.
 *
 * @example
 * const a = new Analyzer();
 * const pkt = newDecodedPacket();
 * for (let v = reader.next(); v; v = reader.next()) a.add(v, decodePacket(v, pkt));
 * const report = a.report({ files: [reader.path], problems: reader.problems });
 */
import { L3, type CaptureProblem, type DecodedPacket, type PacketView } from '../types.js';
import { ConversationTables, type TableLimits } from './conversations.js';
import { ipHeaderSane } from './ip-sanity.js';
import { NameCounter } from './names.js';
import { PortCounter } from './ports.js';
import { ProtocolCounter } from './protocols.js';
import { type AnalysisReport, REPORT_VERSION } from './report.js';
import { Timeline } from './timeline.js';

export interface AnalyzerOptions {
  /** Rows kept in each top list of the report (default 20). */
  top?: number;
  /** Exact-table cap and sketch size for conversations and talkers. */
  limits?: TableLimits;
}

export class Analyzer {
  /** Counters, readable while running. */
  packets = 0;
  bytes = 0;
  capturedBytes = 0;

  private readonly top: number;
  private readonly protocols = new ProtocolCounter();
  private readonly conversations: ConversationTables;
  private readonly ports = new PortCounter();
  private readonly names = new NameCounter();
  private readonly timeline = new Timeline();
  private readonly linkTypes = new Set<number>();
  /** The link type last added to `linkTypes` (a Set.add per packet costs more than a compare). */
  private lastLinkType = -1;
  private first = Infinity;
  private last = -Infinity;

  constructor(opts: AnalyzerOptions = {}) {
    this.top = opts.top ?? 20;
    this.conversations = new ConversationTables(opts.limits);
  }

  add(view: PacketView, pkt: DecodedPacket): void {
    this.packets++;
    this.bytes += view.origLen;
    this.capturedBytes += view.caplen;
    if (view.linkType !== this.lastLinkType) {
      this.lastLinkType = view.linkType;
      this.linkTypes.add(view.linkType);
    }
    const time = view.sec + view.nsec / 1e9;
    if (time < this.first) this.first = time;
    if (time > this.last) this.last = time;
    this.timeline.add(view.sec, view.origLen);
    const ip = pkt.l3 === L3.IPV4 || pkt.l3 === L3.IPV6;
    const sane = ip && ipHeaderSane(view.data, pkt);
    this.protocols.add(view, pkt, sane);
    if (!sane) return;
    this.conversations.add(view, pkt, time);
    if (pkt.l4Offset < 0) return;
    this.ports.add(pkt, view.origLen);
    this.names.add(view, pkt);
  }

  /** Every IP conversation (not only the top ones), for exact comparisons. */
  allIpConversations(): AnalysisReport['conversations']['ip'] {
    return this.conversations.allIpRows();
  }

  report(source: { files: string[]; problems: CaptureProblem[] }): AnalysisReport {
    const hasPackets = this.packets > 0;
    return {
      version: REPORT_VERSION,
      files: source.files,
      capture: {
        packets: this.packets,
        bytes: this.bytes,
        capturedBytes: this.capturedBytes,
        first: hasPackets ? this.first : null,
        last: hasPackets ? this.last : null,
        durationSeconds: hasPackets ? this.last - this.first : 0,
        linkTypes: [...this.linkTypes].sort((a, b) => a - b),
        problems: source.problems,
      },
      protocols: this.protocols.rows(),
      topTalkers: this.conversations.talkerRows(this.top),
      conversations: {
        ip: this.conversations.ipRows(this.top),
        flows: this.conversations.flowRows(this.top),
        ...this.conversations.summaries(),
      },
      topPorts: this.ports.rows(this.top),
      timeline: this.timeline.report(),
      ...this.names.rows(this.top),
    };
  }
}
