/**
 * Human-readable rendering of an {@link AnalysisReport}: aligned tables, one section per part
 * of the report, in the order an analyst reads them.
 */
import type { AnalysisReport, Counted, NameCount } from './report.js';

/** Renders rows as left-aligned first column and right-aligned numbers. */
function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map(
      (r) =>
        '  ' +
        r
          .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
          .join('  ')
          .trimEnd(),
    )
    .join('\n');
}

function time(t: number | null): string {
  return t === null ? '-' : new Date(t * 1000).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

function share(part: Counted, total: number): string {
  return total > 0 ? ((100 * part.bytes) / total).toFixed(1) + '%' : '-';
}

function names(title: string, list: NameCount[]): string {
  if (list.length === 0) return `${title}: none seen`;
  return `${title}\n${table(
    ['name', 'count'],
    list.map((n) => [n.name + (n.approximate ? ' ~' : ''), n.count]),
  )}`;
}

export function formatReport(r: AnalysisReport): string {
  const c = r.capture;
  const out: string[] = [];
  out.push(`files: ${r.files.join(', ')}`);
  out.push(`capture: ${c.packets} packets, ${c.bytes} bytes on the wire (${c.capturedBytes} captured), link types ${c.linkTypes.join(', ') || '-'}`);
  out.push(`time: ${time(c.first)} → ${time(c.last)} (${c.durationSeconds.toFixed(3)} s)`);
  for (const p of c.problems) out.push(`damage: ${p.file} at byte ${p.offset}: ${p.reason}`);

  out.push('\nprotocols');
  out.push(
    table(
      ['protocol', 'packets', 'bytes', 'bytes %'],
      r.protocols.filter((p) => p.packets > 0).map((p) => [p.protocol, p.packets, p.bytes, share(p, c.bytes)]),
    ),
  );

  out.push('\ntop talkers (bytes sent + received)');
  out.push(
    table(
      ['address', 'packets', 'bytes', 'sent', 'received'],
      r.topTalkers.map((t) => [t.address + (t.approximate ? ' ~' : ''), t.packets, t.bytes, t.sentBytes, t.receivedBytes]),
    ),
  );

  const conv = r.conversations;
  out.push(
    `\nIP conversations (${conv.ipTable.distinct}${conv.ipTable.capped ? `+, table cap ${conv.ipTable.cap} reached: rows marked ~ are estimates` : ''})`,
  );
  out.push(
    table(
      ['A', 'B', 'packets', 'bytes', 'A→B', 'B→A', 'seconds'],
      conv.ip.map((x) => [x.a + (x.approximate ? ' ~' : ''), x.b, x.packets, x.bytes, x.aToB.bytes, x.bToA.bytes, (x.last - x.first).toFixed(3)]),
    ),
  );

  out.push(`\nTCP/UDP flows (${conv.flowTable.distinct}${conv.flowTable.capped ? `+, table cap ${conv.flowTable.cap} reached` : ''})`);
  out.push(
    table(
      ['flow', 'A', 'B', 'packets', 'bytes', 'seconds'],
      conv.flows.map((f) => [
        f.transport + (f.approximate ? ' ~' : ''),
        `${f.a} ${f.aPort}`,
        `${f.b} ${f.bPort}`,
        f.packets,
        f.bytes,
        (f.last - f.first).toFixed(3),
      ]),
    ),
  );

  out.push('\ntop ports');
  out.push(
    table(
      ['port', 'packets', 'bytes'],
      r.topPorts.map((p) => [`${p.transport}/${p.port}`, p.packets, p.bytes]),
    ),
  );

  const tl = r.timeline;
  if (tl.packets.length > 0) {
    const peak = tl.packets.reduce((best, n, i) => (n > tl.packets[best]! ? i : best), 0);
    out.push(
      `\ntimeline: ${tl.packets.length} buckets of ${tl.bucketSeconds} s from ${time(tl.start)}; ` +
        `peak ${(tl.packets[peak]! / tl.bucketSeconds).toFixed(1)} packets/s at ${time(tl.start + peak * tl.bucketSeconds)}`,
    );
  }
  out.push('');
  out.push(names('DNS query names', r.dns));
  out.push(names('TLS server names (SNI)', r.tlsSni));
  out.push(names('HTTP hosts', r.httpHosts));
  return out.join('\n');
}
