/**
 * The packet view of a job's merged result, like Wireshark's three panes: the packet list (No.,
 * time since the first packet, source, destination, protocol, length, info) a page at a time from
 * GET /jobs/{id}/packets (decoded on the collector), the selected packet's layers with their fields,
 * and its hex dump with the selected layer's bytes highlighted.
 *
 * Keyboard: the list is one grid (↑/↓, PageUp/PageDown, Home/End move the selection, and the detail
 * follows); "Previous/Next page" buttons and a "Go to packet" field page through the result; each
 * layer is a <details> (Enter/Space opens it; focusing it highlights its bytes).
 */
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import type { ApiClient } from '../api/client.js';
import type { PacketDetail, PacketLayer, PacketRow } from '../api/types.js';
import { VirtualTable, type Column } from './virtual-table.jsx';

/** Rows per page of the list. */
export const PACKET_PAGE = 100;
/** Bytes shown in the hex dump (the rest is summarised): a jumbo frame stays cheap to draw. */
const HEX_LIMIT = 4096;

const COLUMNS: readonly Column<PacketRow>[] = [
  { key: 'no', header: 'No.', width: '70px', cell: (r) => r.number },
  { key: 'time', header: 'Time', width: '100px', cell: (r) => r.relative.toFixed(6) },
  { key: 'src', header: 'Source', width: 'minmax(120px, 1fr)', cell: (r) => r.source },
  { key: 'dst', header: 'Destination', width: 'minmax(120px, 1fr)', cell: (r) => r.destination },
  { key: 'proto', header: 'Protocol', width: '80px', cell: (r) => r.protocol },
  { key: 'len', header: 'Length', width: '70px', cell: (r) => r.length, optional: true },
  { key: 'info', header: 'Info', width: 'minmax(200px, 3fr)', cell: (r) => <span title={r.info}>{r.info}</span> },
];

/** Lines of a hex dump: offset, 16 bytes in hex, the same as ASCII (non-printable as '.'). */
export function hexLines(hex: string): { offset: number; bytes: number[] }[] {
  const bytes: number[] = [];
  for (let i = 0; i + 1 < hex.length && bytes.length < HEX_LIMIT; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  const lines = [];
  for (let at = 0; at < bytes.length; at += 16) lines.push({ offset: at, bytes: bytes.slice(at, at + 16) });
  return lines;
}

function HexDump(props: { hex: string; highlight: PacketLayer | null }): JSX.Element {
  const lit = (i: number) => !!props.highlight && i >= props.highlight.offset && i < props.highlight.offset + props.highlight.length;
  return (
    <pre class="hexdump" aria-label="Packet bytes (hex dump)" tabindex="0" data-hexdump>
      <For each={hexLines(props.hex)}>
        {(line) => (
          <div>
            <span class="hex-offset">{line.offset.toString(16).padStart(4, '0')}</span>{' '}
            <For each={line.bytes}>
              {(b, i) => (
                <span classList={{ 'hex-lit': lit(line.offset + i()) }}>
                  {b.toString(16).padStart(2, '0')}
                  {i() === 7 ? '  ' : ' '}
                </span>
              )}
            </For>
            {'   '.repeat(16 - line.bytes.length)}{' '}
            <For each={line.bytes}>
              {(b, i) => <span classList={{ 'hex-lit': lit(line.offset + i()) }}>{b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'}</span>}
            </For>
          </div>
        )}
      </For>
      <Show when={props.hex.length / 2 > HEX_LIMIT}>
        <div>… {(props.hex.length / 2 - HEX_LIMIT).toLocaleString()} more bytes</div>
      </Show>
    </pre>
  );
}

function layerSummary(layer: PacketLayer): string {
  const pick = (name: string) => layer.fields.find((f) => f.name === name)?.value;
  const src = pick('Source') ?? pick('Source port') ?? pick('Sender IP');
  const dst = pick('Destination') ?? pick('Destination port') ?? pick('Target IP');
  const extra = src !== undefined && dst !== undefined ? `, ${src} → ${dst}` : '';
  return `${layer.name}${extra}${layer.truncated ? ' (truncated)' : ''}`;
}

function Layers(props: { detail: PacketDetail; onHighlight: (layer: PacketLayer | null) => void }): JSX.Element {
  return (
    <div class="packet-layers" data-packet-layers={props.detail.number}>
      <For each={props.detail.layers}>
        {(layer, i) => (
          <details open={i() > 0} data-layer={layer.name} onFocusIn={() => props.onHighlight(layer)} onMouseEnter={() => props.onHighlight(layer)}>
            <summary>{layerSummary(layer)}</summary>
            <dl>
              <For each={layer.fields}>
                {(f) => (
                  <>
                    <dt>{f.name}</dt>
                    <dd>{f.value}</dd>
                  </>
                )}
              </For>
            </dl>
          </details>
        )}
      </For>
    </div>
  );
}

export function PacketView(props: { api: Pick<ApiClient, 'jobPackets' | 'jobPacket'>; jobId: string }): JSX.Element {
  const [offset, setOffset] = createSignal(0);
  const [page] = createResource(
    () => ({ id: props.jobId, offset: offset() }),
    (q) => props.api.jobPackets(q.id, q.offset, PACKET_PAGE),
  );
  const [selected, setSelected] = createSignal<number | null>(null);
  const [detail] = createResource(
    () => {
      const n = selected() ?? page()?.packets[0]?.number;
      return n === undefined ? null : { id: props.jobId, n };
    },
    (q) => props.api.jobPacket(q.id, q.n),
  );
  const [highlight, setHighlight] = createSignal<PacketLayer | null>(null);
  const [goto, setGoto] = createSignal('');
  const total = () => page()?.total ?? 0;

  function turn(to: number): void {
    setSelected(null);
    setHighlight(null);
    setOffset(Math.max(0, Math.min(to, Math.max(0, total() - 1))));
  }

  function jump(e: Event): void {
    e.preventDefault();
    const n = Number(goto());
    if (!Number.isInteger(n) || n < 1 || n > total()) return;
    turn(Math.floor((n - 1) / PACKET_PAGE) * PACKET_PAGE);
    setSelected(n);
  }

  return (
    <div class="packet-view" data-packet-view>
      <div class="packet-nav" role="group" aria-label="Packet list pages">
        <button type="button" disabled={offset() === 0} onClick={() => turn(offset() - PACKET_PAGE)}>
          Previous page
        </button>
        <span aria-live="polite" data-packet-range>
          <Show when={page()} fallback="Loading packets…">
            {(p) => <>{p().total === 0 ? 'No packets' : `Packets ${p().offset + 1}–${p().offset + p().packets.length} of ${p().total.toLocaleString()}`}</>}
          </Show>
        </span>
        <button type="button" disabled={offset() + PACKET_PAGE >= total()} onClick={() => turn(offset() + PACKET_PAGE)}>
          Next page
        </button>
        <form onSubmit={jump} class="packet-goto">
          <label for="packet-goto">Go to packet</label>
          <input id="packet-goto" type="number" min="1" max={total()} value={goto()} onInput={(e) => setGoto(e.currentTarget.value)} />
          <button type="submit">Go</button>
        </form>
      </div>
      <Show when={page.error}>
        <p role="alert">Could not load the packets: {(page.error as Error).message}</p>
      </Show>
      <Show when={page()} keyed>
        {(p) => (
          <VirtualTable
            label="Packets"
            rows={p.packets}
            columns={COLUMNS}
            rowKey={(r) => String(r.number)}
            rowHeight={28}
            height="320px"
            initialActive={Math.max(0, (selected() ?? p.offset + 1) - 1 - p.offset)}
            onActiveChange={(r) => {
              setHighlight(null);
              setSelected(r.number);
            }}
          />
        )}
      </Show>
      <div class="packet-detail">
        <Show when={detail()}>
          {(d) => (
            <>
              <section aria-label={`Layers of packet ${d().number}`}>
                <h3>
                  Packet {d().number}: {d().protocol}, {d().length} bytes on the wire, {d().captured} captured
                </h3>
                <Layers detail={d()} onHighlight={setHighlight} />
              </section>
              <section aria-label={`Bytes of packet ${d().number}`}>
                <Show when={d().bytes} fallback={<p data-bytes-withheld>{d().bytesWithheld}</p>}>
                  {(hex) => <HexDump hex={hex()} highlight={highlight()} />}
                </Show>
              </section>
            </>
          )}
        </Show>
        <Show when={detail.error}>
          <p role="alert">Could not load the packet: {(detail.error as Error).message}</p>
        </Show>
      </div>
    </div>
  );
}
