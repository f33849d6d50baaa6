/**
 * The analysis of a job's merged capture (GET /jobs/{id}/analysis): the protocol hierarchy by
 * layer, top talkers, conversations (IP pairs and flows, sortable by any column), top ports, the
 * timeline as a bar chart (packets per bucket), and the DNS names, TLS SNI and HTTP hosts seen.
 * Figures from the bounded sketch past the exact tables are marked "≈".
 */
import { createMemo, createSignal, For, Show, type JSX } from 'solid-js';
import type { AnalysisReport } from '../api/types.js';
import { formatBytes } from '../state/jobs.js';

type Flow = AnalysisReport['conversations']['flows'][number];
type IpRow = AnalysisReport['conversations']['ip'][number];

const LAYERS: { name: string; protocols: string[] }[] = [
  { name: 'Link', protocols: ['ethernet', 'vlan'] },
  { name: 'Network', protocols: ['ipv4', 'ipv6', 'arp'] },
  { name: 'Transport', protocols: ['tcp', 'udp', 'icmp', 'icmpv6'] },
  { name: 'Other', protocols: ['other'] },
];

const pct = (part: number, whole: number) => (whole > 0 ? `${((part / whole) * 100).toFixed(1)} %` : '–');
const approx = (row: { approximate?: true }) => (row.approximate ? '≈ ' : '');

export function ProtocolHierarchy(props: { report: AnalysisReport }): JSX.Element {
  const by = createMemo(() => new Map(props.report.protocols.map((p) => [p.protocol as string, p])));
  const total = () => props.report.capture.packets;
  return (
    <ul class="proto-tree" aria-label="Protocol hierarchy">
      <For each={LAYERS.filter((l) => l.protocols.some((p) => by().has(p)))}>
        {(layer) => (
          <li>
            <strong>{layer.name}</strong>
            <ul class="proto-tree">
              <For each={layer.protocols.filter((p) => by().has(p))}>
                {(p) => (
                  <li data-protocol={p}>
                    {p}: {by().get(p)!.packets.toLocaleString()} packets ({pct(by().get(p)!.packets, total())}), {formatBytes(by().get(p)!.bytes)}
                  </li>
                )}
              </For>
            </ul>
          </li>
        )}
      </For>
    </ul>
  );
}

interface Column<T> {
  key: string;
  label: string;
  value: (row: T) => string | number;
  show?: (row: T) => string;
}

/** A table whose column headers sort it (again: the other way); aria-sort tells which. */
export function SortableTable<T>(props: { label: string; rows: readonly T[]; columns: Column<T>[]; initial: string; limit?: number }): JSX.Element {
  const [sort, setSort] = createSignal<{ key: string; desc: boolean }>({ key: props.initial, desc: true });
  const sorted = createMemo(() => {
    const col = props.columns.find((c) => c.key === sort().key) ?? props.columns[0]!;
    const dir = sort().desc ? -1 : 1;
    return [...props.rows]
      .sort((a, b) => {
        const x = col.value(a);
        const y = col.value(b);
        return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
      })
      .slice(0, props.limit ?? 200);
  });
  return (
    <div class="table-scroll">
      <table aria-label={props.label}>
        <thead>
          <tr>
            <For each={props.columns}>
              {(c) => (
                <th scope="col" aria-sort={sort().key === c.key ? (sort().desc ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" class="sort-button" onClick={() => setSort((s) => ({ key: c.key, desc: s.key === c.key ? !s.desc : true }))}>
                    {c.label}
                  </button>
                </th>
              )}
            </For>
          </tr>
        </thead>
        <tbody>
          <For
            each={sorted()}
            fallback={
              <tr>
                <td colspan={props.columns.length}>None.</td>
              </tr>
            }
          >
            {(row) => (
              <tr>
                <For each={props.columns}>{(c) => <td>{c.show ? c.show(row) : String(c.value(row))}</td>}</For>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}

export function Timeline(props: { timeline: AnalysisReport['timeline']; timeZone: string }): JSX.Element {
  const max = () => Math.max(1, ...props.timeline.packets);
  const n = () => props.timeline.packets.length;
  const label = () =>
    `${n()} buckets of ${props.timeline.bucketSeconds} s from ${new Date(props.timeline.start * 1000).toISOString()}, at most ${max()} packets in one`;
  return (
    <Show when={n() > 0} fallback={<p>No packets.</p>}>
      <svg class="timeline" viewBox={`0 0 ${n()} 100`} preserveAspectRatio="none" role="img" aria-label={label()}>
        <For each={props.timeline.packets}>
          {(p, i) => (
            <rect x={i()} width={0.9} y={100 - (p / max()) * 100} height={(p / max()) * 100}>
              <title>{`${new Date((props.timeline.start + i() * props.timeline.bucketSeconds) * 1000).toISOString()}: ${p} packets, ${formatBytes(props.timeline.bytes[i()] ?? 0)}`}</title>
            </rect>
          )}
        </For>
      </svg>
    </Show>
  );
}

function Names(props: { title: string; rows: AnalysisReport['dns'] }): JSX.Element {
  return (
    <section>
      <h3>{props.title}</h3>
      <Show when={props.rows.length > 0} fallback={<p>None seen.</p>}>
        <ol>
          <For each={props.rows.slice(0, 100)}>
            {(r) => (
              <li>
                <code>{r.name}</code> — {approx(r)}
                {r.count.toLocaleString()}
              </li>
            )}
          </For>
        </ol>
      </Show>
    </section>
  );
}

const counted = <T extends { packets: number; bytes: number; approximate?: true }>(): Column<T>[] => [
  { key: 'packets', label: 'Packets', value: (r) => r.packets, show: (r) => `${approx(r)}${r.packets.toLocaleString()}` },
  { key: 'bytes', label: 'Bytes', value: (r) => r.bytes, show: (r) => `${approx(r)}${formatBytes(r.bytes)}` },
];

export function JobAnalysis(props: { report: AnalysisReport; timeZone: string }): JSX.Element {
  const r = () => props.report;
  return (
    <div class="analysis">
      <p>
        {r().capture.packets.toLocaleString()} packets, {formatBytes(r().capture.bytes)} over {r().capture.durationSeconds.toFixed(1)} s
        <Show when={r().capture.problems.length > 0}> — {r().capture.problems.length} problem(s) reading the capture</Show>
      </p>
      <div class="analysis-grid">
        <section>
          <h3>Protocol hierarchy</h3>
          <ProtocolHierarchy report={r()} />
        </section>
        <section>
          <h3>Timeline</h3>
          <Timeline timeline={r().timeline} timeZone={props.timeZone} />
        </section>
        <section>
          <h3>Top talkers</h3>
          <SortableTable
            label="Top talkers"
            rows={r().topTalkers}
            initial="bytes"
            limit={25}
            columns={[
              { key: 'address', label: 'Address', value: (t) => t.address },
              ...counted(),
              { key: 'sent', label: 'Sent', value: (t) => t.sentBytes, show: (t) => formatBytes(t.sentBytes) },
              { key: 'received', label: 'Received', value: (t) => t.receivedBytes, show: (t) => formatBytes(t.receivedBytes) },
            ]}
          />
        </section>
        <section>
          <h3>Ports</h3>
          <SortableTable
            label="Top ports"
            rows={r().topPorts}
            initial="packets"
            limit={25}
            columns={[{ key: 'port', label: 'Port', value: (p) => p.port, show: (p) => `${p.transport}/${p.port}` }, ...counted()]}
          />
        </section>
      </div>
      <section>
        <h3>Conversations (IP)</h3>
        <SortableTable<IpRow>
          label="IP conversations"
          rows={r().conversations.ip}
          initial="bytes"
          columns={[
            { key: 'a', label: 'A', value: (c) => c.a },
            { key: 'b', label: 'B', value: (c) => c.b },
            ...counted<IpRow>(),
            { key: 'ab', label: 'A → B bytes', value: (c) => c.aToB.bytes, show: (c) => formatBytes(c.aToB.bytes) },
            { key: 'ba', label: 'B → A bytes', value: (c) => c.bToA.bytes, show: (c) => formatBytes(c.bToA.bytes) },
            { key: 'duration', label: 'Duration', value: (c) => c.last - c.first, show: (c) => `${(c.last - c.first).toFixed(2)} s` },
          ]}
        />
        <h3>Conversations (TCP/UDP flows)</h3>
        <SortableTable<Flow>
          label="Flows"
          rows={r().conversations.flows}
          initial="bytes"
          columns={[
            { key: 'transport', label: 'Proto', value: (c) => c.transport },
            { key: 'a', label: 'A', value: (c) => `${c.a}:${c.aPort}` },
            { key: 'b', label: 'B', value: (c) => `${c.b}:${c.bPort}` },
            ...counted<Flow>(),
            { key: 'duration', label: 'Duration', value: (c) => c.last - c.first, show: (c) => `${(c.last - c.first).toFixed(2)} s` },
          ]}
        />
      </section>
      <div class="analysis-grid">
        <Names title="DNS names" rows={r().dns} />
        <Names title="TLS SNI" rows={r().tlsSni} />
        <Names title="HTTP hosts" rows={r().httpHosts} />
      </div>
    </div>
  );
}
