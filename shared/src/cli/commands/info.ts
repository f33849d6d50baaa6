/** `pcapmesh-pcap info [--json] FILE...`: capinfos-like facts per file. */
import { captureInfo, formatInfo, infoToJson } from '../../pcap/info.js';
import { UsageError, parseCommandLine, type CliCommand } from '../command.js';

export const command: CliCommand = {
  summary: 'format, link types, packets, bytes, first and last packet time, per file',
  usage: `usage: pcapmesh-pcap info [--json] FILE...

Prints per file: format, link types, snaplen, packets, file and data size, earliest and latest
packet time, whether times are in order, and any damage (offset and reason; every valid packet
is still counted). --json prints one JSON array.
Exit status: 0 when every file could be read, 1 when some file could not (not a capture, missing).`,
  run(args) {
    const { values, positionals } = parseCommandLine(args, { json: { type: 'boolean' } });
    if (positionals.length === 0) throw new UsageError('no FILE given');
    let failed = 0;
    const results: Record<string, unknown>[] = [];
    const texts: string[] = [];
    for (const path of positionals) {
      try {
        const info = captureInfo(path);
        if (values.json) results.push(infoToJson(info));
        else texts.push(formatInfo(info));
      } catch (error) {
        failed++;
        const message = (error as Error).message;
        if (values.json) results.push({ path, error: message, code: (error as { code?: string }).code ?? null });
        else console.error(`pcapmesh-pcap info: ${message}`);
      }
    }
    if (values.json) console.log(JSON.stringify(results, null, 2));
    else if (texts.length > 0) console.log(texts.join('\n\n'));
    return failed > 0 ? 1 : 0;
  },
};
