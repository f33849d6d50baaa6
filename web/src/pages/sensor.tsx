/**
 * Sensor detail: status and identity, PCAP availability (overall and per capture source, with how
 * much the agent has indexed), capture disks, the devices table, and
 * health history charts over a chosen time range (uPlot, loaded lazily).
 */
import { A, useParams } from '@solidjs/router';
import { ErrorBoundary, For, lazy, Show, Suspense, type JSX } from 'solid-js';
import { AvailabilityBar } from '../components/availability-bar.jsx';
import { Gauge } from '../components/gauge.jsx';
import { RangePicker } from '../components/range-picker.jsx';
import { StatusBadge } from '../components/status-badge.jsx';
import { useApp } from '../context.jsx';
import { diskPercent, formatBytes, indexedLabel, sensorMetrics } from '../state/fleet-math.js';
import { formatDateTime } from '../time/zone.js';
import { loadSensor } from './sensor.data.js';

const HealthChart = lazy(() => import('../charts/health-chart.jsx').then((m) => ({ default: m.HealthChart })));

export default function SensorPage(): JSX.Element {
  const app = useApp();
  const params = useParams<{ name: string }>();
  const data = loadSensor(app, () => params.name);
  const tz = () => app.preferences.timeZone();
  const when = (iso: string | null | undefined) => (iso ? formatDateTime(Date.parse(iso), tz()) : '–');

  return (
    <section aria-labelledby="sensor-title">
      <p>
        <A href="/sensors">← Sensors</A>
      </p>
      <h1 id="sensor-title">{params.name}</h1>
      <Show when={data.fetchError()}>
        <p class="field-error" role="alert">
          {data.fetchError()?.message}
        </p>
      </Show>
      <Show when={data.sensor()}>
        {(s) => (
          <>
            <dl class="facts card">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={s().status} /> <span class="muted">{s().statusReason ?? ''}</span>
              </dd>
              <dt>Since</dt>
              <dd>{when(s().statusChangedAt)}</dd>
              <dt>Last seen</dt>
              <dd>{when(s().lastSeen)}</dd>
              <dt>Location</dt>
              <dd>{s().location ?? '–'}</dd>
              <dt>Host / version</dt>
              <dd>
                {s().hostname ?? '–'} / {s().version ?? '–'}
              </dd>
              <dt>CPU / memory</dt>
              <dd class="inline-gauges">
                <Gauge label="CPU" value={sensorMetrics(s())?.cpu ?? null} />
                <Gauge label="Memory" value={sensorMetrics(s())?.memoryPercent ?? null} />
              </dd>
              <dt>PCAP</dt>
              <dd>
                <AvailabilityBar sensor={s()} />
                <Show when={s().pcap.oldest}>
                  <span class="muted">
                    {when(s().pcap.oldest)} → {when(s().pcap.newest)}
                  </span>
                </Show>
              </dd>
            </dl>

            <h2 id="sources-title">Capture sources</h2>
            <Show when={s().pcap.sources.length > 0} fallback={<p class="muted">No PCAP availability reported yet.</p>}>
              <div class="table-scroll">
                <table aria-labelledby="sources-title">
                  <thead>
                    <tr>
                      <th scope="col">Source</th>
                      <th scope="col">Directory</th>
                      <th scope="col">Oldest → newest packet</th>
                      <th scope="col">Files</th>
                      <th scope="col">Size</th>
                      <th scope="col">Indexed</th>
                      <th scope="col">Gaps</th>
                      <th scope="col">Problems</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={s().pcap.sources}>
                      {(src) => (
                        <tr>
                          <td>{src.name}</td>
                          <td>
                            <code>{src.directory}</code>
                          </td>
                          <td>
                            {when(src.oldest)} → {when(src.newest)}
                          </td>
                          <td>{src.files}</td>
                          <td>{formatBytes(src.bytes)}</td>
                          <td>{indexedLabel(src) ?? '–'}</td>
                          <td>{src.gaps.length}</td>
                          <td
                            title={src.problems
                              .slice(0, 5)
                              .map((p) => `${p.file}: ${p.reason}`)
                              .join('\n')}
                          >
                            {src.problems.length}
                          </td>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </Show>

            <h2>Capture disks</h2>
            <Show when={s().disks.length > 0} fallback={<p class="muted">No disk reported yet.</p>}>
              <ul class="plain-list">
                <For each={s().disks}>
                  {(d) => (
                    <li class="disk-line">
                      <code>{d.mount}</code> <Gauge label={`disk ${d.mount}`} value={diskPercent(d)} />
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </>
        )}
      </Show>

      <h2 id="devices-title">Devices</h2>
      <Show when={!data.devices.error} fallback={<p role="alert">Could not load devices: {(data.devices.error as Error).message}</p>}>
        <div class="table-scroll">
          <table aria-labelledby="devices-title">
            <thead>
              <tr>
                <th scope="col">Interface</th>
                <th scope="col">Status</th>
                <th scope="col">Directory</th>
                <th scope="col">Packets</th>
                <th scope="col">Drops</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              <For
                each={data.devices.latest ?? []}
                fallback={
                  <tr>
                    <td colspan="6">No devices reported.</td>
                  </tr>
                }
              >
                {(d) => (
                  <tr>
                    <td>{d.name}</td>
                    <td>{d.status}</td>
                    <td>
                      <code>{d.directory}</code>
                    </td>
                    <td>{d.packets ?? d.rxPackets ?? '–'}</td>
                    <td>{d.drops ?? d.rxDropped ?? '–'}</td>
                    <td>{when(d.updatedAt)}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>

      <h2>Health history</h2>
      <RangePicker value={data.range()} timeZone={tz()} onChange={data.setRange} />
      <ErrorBoundary fallback={(err: Error) => <p role="alert">Could not load health history: {err.message}</p>}>
        <Suspense fallback={<p class="muted">Loading chart…</p>}>
          <Show when={data.health()}>
            {(h) => <HealthChart points={h().points} from={h().from} to={h().to} title={`${params.name}: CPU, memory, disk, load`} />}
          </Show>
        </Suspense>
      </ErrorBoundary>
    </section>
  );
}
