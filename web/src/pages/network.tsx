/**
 * Network: the locations on a 3D globe (points sized by traffic, arcs for the traffic between
 * locations) over a chosen range — or, without WebGL, the same data as tables; the selected
 * location's sensors and totals (admins set its coordinates and description); the subnet map
 * (admins pin and unpin, and clear the location cache).
 */
import { A, useSearchParams } from '@solidjs/router';
import { createEffect, createMemo, createSignal, For, Show, type JSX } from 'solid-js';
import type { SubnetView } from '../api/types.js';
import { useToasts } from '../components/toasts.jsx';
import { useApp } from '../context.jsx';
import '../styles/network.css';
import { NetworkGlobe } from '../network/globe.jsx';
import { globeModel, hasWebGl, NETWORK_RANGES } from '../network/model.js';
import { NetworkTable } from '../network/network-table.jsx';
import { formatBytes } from '../state/jobs.js';
import { formatDateTime } from '../time/zone.js';
import { loadNetwork } from './network.data.js';

export default function NetworkPage(): JSX.Element {
  const app = useApp();
  const toasts = useToasts();
  const net = loadNetwork(app);
  const isAdmin = () => app.session.user()?.role === 'admin';
  const [webgl, setWebgl] = createSignal(hasWebGl());
  const [hover, setHover] = createSignal<string | null>(null);
  // ?location=<name> opens a location (links of the search box).
  const [params, setParams] = useSearchParams<{ location?: string }>();
  const [selected, setSelectedSignal] = createSignal<string | null>(params.location ?? null);
  createEffect(() => setSelectedSignal(params.location ?? null));
  const setSelected = (name: string | null) => {
    setSelectedSignal(name);
    setParams({ location: name ?? undefined }, { replace: true });
  };
  const model = createMemo(() => {
    const v = net.locations();
    return v ? globeModel(v) : { points: [], arcs: [], unplaced: [] };
  });
  const selectedLocation = () => net.locations()?.locations.find((l) => l.name === selected()) ?? null;
  const when = (iso: string | null) => (iso ? formatDateTime(Date.parse(iso), app.preferences.timeZone()) : '–');

  async function act(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      toasts.show({ kind: 'success', text: what });
      net.refetch();
    } catch (err) {
      toasts.show({ kind: 'error', text: `${what.replace(/\.$/, '')} failed: ${(err as Error).message}` });
    }
  }

  function saveLocation(e: SubmitEvent): void {
    e.preventDefault();
    const name = selected();
    if (!name) return;
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const num = (k: string) => {
      const t = String(f.get(k) ?? '').trim();
      return t === '' ? null : Number(t);
    };
    const lat = num('latitude');
    const lng = num('longitude');
    if ((lat !== null && !(lat >= -90 && lat <= 90)) || (lng !== null && !(lng >= -180 && lng <= 180))) {
      toasts.show({ kind: 'error', text: 'Latitude must be −90..90 and longitude −180..180 degrees.' });
      return;
    }
    const description = String(f.get('description') ?? '').trim();
    void act(`Location ${name} saved.`, () => app.api.updateLocation(name, { latitude: lat, longitude: lng, description: description || null }));
  }

  function pin(e: SubmitEvent): void {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const cidr = String(f.get('cidr') ?? '').trim();
    const location = String(f.get('location') ?? '');
    if (!cidr || !location) {
      toasts.show({ kind: 'error', text: 'Give a subnet (CIDR) and a location to pin it to.' });
      return;
    }
    void act(`${cidr} pinned to ${location}.`, () => app.api.pinSubnet(cidr, location));
  }

  const confidence = (s: SubnetView) => (s.learned.confidence === null ? '–' : `${Math.round(s.learned.confidence * 100)} %`);

  return (
    <section aria-labelledby="network-title" class="network">
      <h1 id="network-title">Network</h1>
      <div class="toolbar">
        <label for="network-range">Range</label>
        <select id="network-range" value={net.hours()} onChange={(e) => net.setHours(Number(e.currentTarget.value))}>
          <For each={NETWORK_RANGES}>{(r) => <option value={r.hours}>{r.label}</option>}</For>
        </select>
        <Show when={isAdmin()}>
          <button type="button" onClick={() => void act('Location cache cleared.', () => app.api.clearNetworkCache())}>
            Clear location cache
          </button>
        </Show>
      </div>
      <Show when={net.locations.error}>
        <p role="alert">Could not load the locations: {(net.locations.error as Error).message}</p>
      </Show>
      <Show when={net.locations()}>
        {(view) => (
          <Show
            when={webgl()}
            fallback={
              <div data-view="table">
                <p class="note">WebGL is not available in this browser: the locations and their traffic as tables.</p>
                <NetworkTable view={view()} />
              </div>
            }
          >
            <div data-view="globe">
              <NetworkGlobe
                model={model()}
                onSelect={setSelected}
                onHover={setHover}
                onFail={(err) => {
                  toasts.show({ kind: 'error', text: `The globe could not start (${err.message}): showing tables.` });
                  setWebgl(false);
                }}
              />
              <p class="globe-hover" aria-live="polite">
                {hover() ?? 'Hover a location or an arc for its totals; click a location to open it.'}
              </p>
              <Show when={model().unplaced.length > 0}>
                <p class="note">Without coordinates (not on the globe): {model().unplaced.join(', ')}</p>
              </Show>
              <details>
                <summary>Show as tables</summary>
                <NetworkTable view={view()} />
              </details>
            </div>
          </Show>
        )}
      </Show>
      <h2 id="location-title">Location</h2>
      <label for="network-location">Open a location</label>{' '}
      <select id="network-location" value={selected() ?? ''} onChange={(e) => setSelected(e.currentTarget.value || null)}>
        <option value="">–</option>
        <For each={net.locations()?.locations ?? []}>{(l) => <option value={l.name}>{l.name}</option>}</For>
      </select>
      <Show when={selectedLocation()}>
        {(l) => (
          <div class="location-detail" data-location={l().name}>
            <h3>{l().name}</h3>
            <p>{l().description ?? 'No description.'}</p>
            <p>
              {formatBytes(l().bytes)}, {l().packets.toLocaleString()} packets in the range; {l().subnets} subnets; sensors ({l().online} online):{' '}
              <For each={l().sensors}>
                {(s, i) => (
                  <>
                    {i() > 0 ? ', ' : ''}
                    <A href={`/sensors/${encodeURIComponent(s)}`}>{s}</A>
                  </>
                )}
              </For>
            </p>
            <Show when={isAdmin()}>
              <form class="toolbar" onSubmit={saveLocation} aria-label={`Edit ${l().name}`}>
                <label for="loc-lat">Latitude</label>
                <input id="loc-lat" name="latitude" inputmode="decimal" value={l().latitude ?? ''} />
                <label for="loc-lng">Longitude</label>
                <input id="loc-lng" name="longitude" inputmode="decimal" value={l().longitude ?? ''} />
                <label for="loc-desc">Description</label>
                <input id="loc-desc" name="description" value={l().description ?? ''} />
                <button type="submit">Save location</button>
              </form>
            </Show>
          </div>
        )}
      </Show>
      <h2 id="subnets-title">Subnet map</h2>
      <Show when={isAdmin()}>
        <form class="toolbar" onSubmit={pin} aria-label="Pin a subnet">
          <label for="pin-cidr">Subnet</label>
          <input id="pin-cidr" name="cidr" placeholder="10.1.2.0/24" />
          <label for="pin-location">Location</label>
          <select id="pin-location" name="location">
            <For each={net.locations()?.locations ?? []}>{(l) => <option value={l.name}>{l.name}</option>}</For>
          </select>
          <button type="submit">Pin</button>
        </form>
      </Show>
      <Show when={net.subnets.error}>
        <p role="alert">Could not load the subnet map: {(net.subnets.error as Error).message}</p>
      </Show>
      <div class="table-scroll">
        <table aria-labelledby="subnets-title">
          <thead>
            <tr>
              <th scope="col">Subnet</th>
              <th scope="col">State</th>
              <th scope="col">Location</th>
              <th scope="col">Confidence</th>
              <th scope="col">First seen</th>
              <th scope="col">Last seen</th>
              <th scope="col">Bytes</th>
              <Show when={isAdmin()}>
                <th scope="col">Pin</th>
              </Show>
            </tr>
          </thead>
          <tbody>
            <For
              each={net.subnets() ?? []}
              fallback={
                <tr>
                  <td colspan="8">No subnets learned yet.</td>
                </tr>
              }
            >
              {(s) => (
                <tr data-subnet={s.subnet} data-state={s.state}>
                  <td>
                    <code>{s.subnet}</code>
                  </td>
                  <td>{s.state}</td>
                  <td>{s.location ?? '–'}</td>
                  <td>{confidence(s)}</td>
                  <td>{when(s.firstSeen)}</td>
                  <td>{when(s.lastSeen)}</td>
                  <td>{formatBytes(s.bytes)}</td>
                  <Show when={isAdmin()}>
                    <td>
                      <Show
                        when={s.pinned}
                        fallback={
                          <Show when={s.location}>
                            {(loc) => (
                              <button type="button" onClick={() => void act(`${s.subnet} pinned to ${loc()}.`, () => app.api.pinSubnet(s.subnet, loc()))}>
                                Pin to {loc()}
                              </button>
                            )}
                          </Show>
                        }
                      >
                        <button type="button" onClick={() => void act(`${s.subnet} unpinned.`, () => app.api.unpinSubnet(s.subnet))}>
                          Unpin
                        </button>
                      </Show>
                    </td>
                  </Show>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
    </section>
  );
}
