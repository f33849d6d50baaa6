/**
 * The file edge of the analyser: reads one or more captures (pcap or pcapng) in order through
 * the shared reader and decoder and returns the report. Damaged files are analysed up to the
 * damage, which is listed in `capture.problems`; a file that is not a capture at all throws
 * (CaptureFormatError) naming the file.
 */
import { decodePacket, newDecodedPacket } from '../decode.js';
import { openCapture } from '../reader.js';
import type { CaptureProblem } from '../types.js';
import { Analyzer, type AnalyzerOptions } from './analyzer.js';
import type { AnalysisReport } from './report.js';

/** Analyses `paths` in order; the report covers all of them together. */
export function analyzeFiles(paths: string[], opts: AnalyzerOptions = {}): AnalysisReport {
  return analyzeInto(new Analyzer(opts), paths).report;
}

/** Like {@link analyzeFiles}, also returning the analyser (for exact full-table queries). */
export function analyzeInto(analyzer: Analyzer, paths: string[]): { analyzer: Analyzer; report: AnalysisReport } {
  const problems: CaptureProblem[] = [];
  const pkt = newDecodedPacket();
  for (const path of paths) {
    const reader = openCapture(path);
    try {
      for (let v = reader.next(); v !== null; v = reader.next()) analyzer.add(v, decodePacket(v, pkt));
      problems.push(...reader.problems);
    } finally {
      reader.close();
    }
  }
  return { analyzer, report: analyzer.report({ files: paths, problems }) };
}
