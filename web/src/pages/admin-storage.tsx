/**
 * Storage (admin): the database's size by table with partition counts, the data directory's disk
 * (results and PGlite live there), and the partition maintenance log (GET /admin/maintenance,
 * newest first, "Older operations" pages on).
 */
import { createResource, createSignal, For, Show, type JSX } from 'solid-js';
import type { MaintenanceOperationView } from '../api/types.js';
import { useApp } from '../context.jsx';
import '../styles/network.css';
import { formatBytes } from '../state/jobs.js';
import { formatDateTime } from '../time/zone.js';

export default function StoragePage(): JSX.Element {
  const app = useApp();
  const [storage] = createResource(() => app.api.storage());
  const [ops, setOps] = createSignal<MaintenanceOperationView[]>([]);
  const [next, setNext] = createSignal<string | null>(null);
  const [opsError, setOpsError] = createSignal<Error | null>(null);
  async function page(cursor?: string): Promise<void> {
    try {
      const res = await app.api.maintenance({ limit: 100, ...(cursor ? { cursor } : {}) });
      setOps((list) => (cursor ? [...list, ...res.operations] : res.operations));
      setNext(res.next);
    } catch (err) {
      setOpsError(err as Error);
    }
  }
  void page();
  const at = (iso: string | null) => (iso ? formatDateTime(Date.parse(iso), app.preferences.timeZone()) : '–');

  return (
    <section aria-labelledby="storage-title">
      <h1 id="storage-title">Storage</h1>
      <Show when={storage.error}>
        <p role="alert">Could not load the storage figures: {(storage.error as Error).message}</p>
      </Show>
      <Show when={storage()}>
        {(s) => (
          <>
            <p data-database-bytes={s().database.bytes}>
              Database ({s().database.kind}): {formatBytes(s().database.bytes)}
            </p>
            <Show when={s().dataDir} fallback={<p>The data directory is not on this host's disk (external PostgreSQL).</p>}>
              {(d) => (
                <p data-disk={d().path}>
                  Data directory <code>{d().path}</code> (results, PGlite): {formatBytes(d().totalBytes - d().freeBytes)} used of {formatBytes(d().totalBytes)},{' '}
                  {formatBytes(d().freeBytes)} free.
                </p>
              )}
            </Show>
            <div class="table-scroll">
              <table>
                <caption>Tables by size</caption>
                <thead>
                  <tr>
                    <th scope="col">Table</th>
                    <th scope="col">Size</th>
                    <th scope="col">Rows (estimated)</th>
                    <th scope="col">Partitions</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={[...s().database.tables].sort((a, b) => b.bytes - a.bytes)}>
                    {(t) => (
                      <tr data-table={t.table}>
                        <td>{t.table}</td>
                        <td>{formatBytes(t.bytes)}</td>
                        <td>{t.rows < 0 ? '–' : t.rows.toLocaleString()}</td>
                        <td>{t.partitions}</td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </>
        )}
      </Show>
      <h2 id="maintenance-title">Maintenance log</h2>
      <Show when={opsError()}>
        <p role="alert">Could not load the maintenance log: {opsError()?.message}</p>
      </Show>
      <div class="table-scroll">
        <table aria-labelledby="maintenance-title">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Table</th>
              <th scope="col">Partition</th>
              <th scope="col">Action</th>
              <th scope="col">Rows</th>
              <th scope="col">Outcome</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={ops()}
              fallback={
                <tr>
                  <td colspan="7">No maintenance operations yet.</td>
                </tr>
              }
            >
              {(o) => (
                <tr data-op={o.action} data-outcome={o.outcome}>
                  <td>{at(o.at)}</td>
                  <td>{o.table}</td>
                  <td>{o.partition}</td>
                  <td>{o.action}</td>
                  <td>{o.rows === null ? '–' : o.rows.toLocaleString()}</td>
                  <td>{o.error ? `${o.outcome}: ${o.error}` : o.outcome}</td>
                  <td>{Math.round(o.durationMs)} ms</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <Show when={next()}>
        <button type="button" onClick={() => void page(next() ?? undefined)}>
          Older operations
        </button>
      </Show>
    </section>
  );
}
