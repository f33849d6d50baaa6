/**
 * The network data as tables: every location (coordinates, sensors, totals) and the flows between
 * locations. The globe's fallback without WebGL, and its accessible twin beside it.
 */
import { For, Show, type JSX } from 'solid-js';
import type { NetworkLocationsView } from '../api/types.js';
import { formatBytes } from '../state/jobs.js';

const coord = (v: number | null) => (v === null ? '–' : v.toFixed(4));

export function NetworkTable(props: { view: NetworkLocationsView; caption?: string }): JSX.Element {
  const locations = () => [...props.view.locations].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  const flows = () => [...props.view.flows].sort((a, b) => b.bytes - a.bytes);
  return (
    <div class="network-table">
      <div class="table-scroll">
        <table>
          <caption>{props.caption ?? 'Locations'}</caption>
          <thead>
            <tr>
              <th scope="col">Location</th>
              <th scope="col">Latitude</th>
              <th scope="col">Longitude</th>
              <th scope="col">Sensors (online)</th>
              <th scope="col">Subnets</th>
              <th scope="col">Packets</th>
              <th scope="col">Bytes</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={locations()}
              fallback={
                <tr>
                  <td colspan="7">No locations.</td>
                </tr>
              }
            >
              {(l) => (
                <tr data-location={l.name}>
                  <th scope="row">{l.name}</th>
                  <td>{coord(l.latitude)}</td>
                  <td>{coord(l.longitude)}</td>
                  <td>
                    {l.sensors.length} ({l.online})
                  </td>
                  <td>{l.subnets}</td>
                  <td>{l.packets.toLocaleString()}</td>
                  <td data-bytes={l.bytes}>{formatBytes(l.bytes)}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <Show when={flows().length > 0}>
        <div class="table-scroll">
          <table>
            <caption>Traffic between locations</caption>
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Packets</th>
                <th scope="col">Bytes</th>
              </tr>
            </thead>
            <tbody>
              <For each={flows()}>
                {(f) => (
                  <tr data-flow={`${f.from}→${f.to}`}>
                    <td>{f.from}</td>
                    <td>{f.to}</td>
                    <td>{f.packets.toLocaleString()}</td>
                    <td>{formatBytes(f.bytes)}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
    </div>
  );
}
