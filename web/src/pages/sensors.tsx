/**
 * Sensors: every sensor in a virtualised table (status, location, last seen, CPU / memory / disk
 * gauges, PCAP availability window with gaps), filterable by name, location or status, live from
 * the fleet store. Enter or a click on the name opens the sensor.
 */
import { A, useNavigate } from '@solidjs/router';
import { createMemo, createSignal, onCleanup, type JSX } from 'solid-js';
import type { SensorView } from '../api/types.js';
import { AvailabilityBar } from '../components/availability-bar.jsx';
import { Gauge } from '../components/gauge.jsx';
import { StatusBadge } from '../components/status-badge.jsx';
import { VirtualTable, type Column } from '../components/virtual-table.jsx';
import { useApp } from '../context.jsx';
import { diskPercent, sensorMetrics } from '../state/fleet-math.js';
import { formatAgo, formatDateTime } from '../time/zone.js';
import { loadFleet } from './fleet.data.js';

/** Fullest capture disk of a sensor, percent; null without disks. */
export function fullestDisk(s: Pick<SensorView, 'disks'>): number | null {
  return s.disks.length === 0 ? null : Math.max(...s.disks.map(diskPercent));
}

export function matchesFilter(s: Pick<SensorView, 'name' | 'location' | 'status'>, filter: string): boolean {
  const f = filter.trim().toLowerCase();
  return f === '' || s.name.includes(f) || (s.location ?? '').toLowerCase().includes(f) || s.status === f;
}

export function SensorsPage(): JSX.Element {
  const app = useApp();
  const { fleet, preferences } = app;
  const navigate = useNavigate();
  loadFleet(app);
  const [filter, setFilter] = createSignal('');
  const [now, setNow] = createSignal(Date.now());
  const tick = setInterval(() => setNow(Date.now()), 5_000);
  onCleanup(() => clearInterval(tick));

  // CPU and memory of the newest health sample (the snapshot's, then each live one); an offline
  // sensor's last sample is not current.
  const liveMetric = (s: SensorView, key: 'cpu' | 'memoryPercent') => (s.status === 'offline' ? null : (sensorMetrics(s)?.[key] ?? null));
  const rows = createMemo(() => fleet.list().filter((s) => matchesFilter(s, filter())));
  const open = (s: SensorView) => navigate(`/sensors/${encodeURIComponent(s.name)}`);

  const columns: Column<SensorView>[] = [
    {
      key: 'name',
      header: 'Sensor',
      width: 'minmax(120px, 1.4fr)',
      cell: (s) => (
        <A href={`/sensors/${encodeURIComponent(s.name)}`} tabindex="-1">
          {s.name}
        </A>
      ),
    },
    { key: 'status', header: 'Status', width: '100px', cell: (s) => <StatusBadge status={s.status} title={s.statusReason} /> },
    { key: 'location', header: 'Location', width: 'minmax(80px, 1fr)', cell: (s) => s.location ?? '–', optional: true },
    {
      key: 'lastSeen',
      header: 'Last seen',
      width: '110px',
      cell: (s) =>
        s.lastSeen ? (
          <time datetime={s.lastSeen} title={formatDateTime(Date.parse(s.lastSeen), preferences.timeZone())}>
            {formatAgo(Date.parse(s.lastSeen), now())}
          </time>
        ) : (
          'never'
        ),
      optional: true,
    },
    { key: 'cpu', header: 'CPU', width: '90px', cell: (s) => <Gauge label={`${s.name} CPU`} value={liveMetric(s, 'cpu')} />, optional: true },
    {
      key: 'memory',
      header: 'Memory',
      width: '90px',
      cell: (s) => <Gauge label={`${s.name} memory`} value={liveMetric(s, 'memoryPercent')} />,
      optional: true,
    },
    { key: 'disk', header: 'Disk', width: '90px', cell: (s) => <Gauge label={`${s.name} disk`} value={fullestDisk(s)} /> },
    { key: 'pcap', header: 'PCAP availability', width: 'minmax(120px, 2fr)', cell: (s) => <AvailabilityBar sensor={s} />, optional: true },
  ];

  return (
    <section aria-labelledby="sensors-title">
      <h1 id="sensors-title">Sensors</h1>
      <div class="toolbar">
        <label for="sensor-filter">Filter</label>
        <input id="sensor-filter" type="search" placeholder="name, location or status" value={filter()} onInput={(e) => setFilter(e.currentTarget.value)} />
        <span class="muted" role="status">
          {rows().length} of {fleet.list().length} sensors
        </span>
      </div>
      <VirtualTable label="Sensors" rows={rows()} columns={columns} rowKey={(s) => s.name} onActivate={open} />
    </section>
  );
}
