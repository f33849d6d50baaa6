/**
 * The PCAP library: read pcap/pcapng, write, merge, time ranges, info, sidecar index (and, from
 * the other parts of the engine, decode, filter, extract, analyse). Each part adds its exports here.
 */
export * from './types.js';
export { openCapture, readerFromBytes, isCaptureFormatError, CaptureFormatError, readerCounters } from './reader.js';
export type { CaptureReader, OpenOptions, CaptureErrorCode } from './reader.js';
export { decodePacket, newDecodedPacket, EtherType, IpProto, formatIpv4, formatIpv6 } from './decode.js';
export * from './filter/index.js';
export { extract, resolveFilter, type ExtractOptions, type ExtractStats, type ExtractProgress } from './extract.js';
export { parseTimeBound } from './extract-time.js';
export { PcapWriter, PcapngWriter, FileSink, MemorySink, type PacketWriter, type ByteSink } from './writer.js';
export { mergeCaptures, mergeReaders, chooseFormat, DEFAULT_DEDUP_WINDOW_NS, type MergeOptions, type MergeStats, type MergeFormat } from './merge.js';
export { captureTimeRange, type CaptureTimeRange } from './time-range.js';
export { captureInfo, formatInfo, infoToJson, linkTypeName, type CaptureInfo } from './info.js';
export { compareTimestamps, formatTimestamp, timestampToDecimal, copyTimestamp } from './timestamp.js';
export {
  openIndex,
  loadIndex,
  buildIndex,
  sidecarPath,
  isStillBeingWritten,
  CaptureIndex,
  IndexBlock,
  DEFAULT_SETTLE_MS,
  type OpenIndexResult,
  type LoadResult,
} from './sidecar/index.js';
export { Analyzer, type AnalyzerOptions } from './analyze/analyzer.js';
export { analyzeFiles } from './analyze/analyze-files.js';
export { formatReport } from './analyze/format.js';
export * from './analyze/report.js';
export { TrafficGenerator, type GenOptions } from './gen/generator.js';
export { writeCapture, writeRollingCaptures, type GenSummary } from './gen/output.js';
