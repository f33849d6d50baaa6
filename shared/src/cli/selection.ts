/** The window and filter options of the commands that select packets (extract, estimate). */
import { parseTimeBound } from '../pcap/extract-time.js';
import { FilterSyntaxError, FilterUnsupportedError } from '../pcap/filter/errors.js';
import { parseFilter } from '../pcap/filter/parser.js';
import type { FilterNode } from '../pcap/filter/ast.js';
import type { Timestamp } from '../pcap/types.js';
import { UsageError } from './command.js';

/**
 * The selection options extract and estimate share: `--from`/`--to` (ISO 8601 or epoch seconds) and
 * `--filter` (tcpdump language; empty matches all). A bad value is a UsageError naming the option;
 * a filter error points a caret at its position.
 */
export function parseSelection(values: { from?: string; to?: string; filter?: string }): {
  from: Timestamp | undefined;
  to: Timestamp | undefined;
  filter: FilterNode;
} {
  const bound = (text: string | undefined, what: string) => {
    if (text === undefined) return undefined;
    try {
      return parseTimeBound(text, what);
    } catch (error) {
      throw new UsageError((error as Error).message, { cause: error });
    }
  };
  const from = bound(values.from, '--from');
  const to = bound(values.to, '--to');
  try {
    return { from, to, filter: parseFilter(values.filter ?? '') };
  } catch (error) {
    if (error instanceof FilterSyntaxError || error instanceof FilterUnsupportedError) {
      throw new UsageError(`--filter: ${error.message}\n  ${values.filter}\n  ${' '.repeat(error.position)}^`, { cause: error });
    }
    throw error;
  }
}
