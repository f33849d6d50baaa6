/**
 * The network view on PostgreSQL (issue 11), against the real collector process (embedded broker):
 *
 *   ingest  S simulated sensors (mqtt.js clients, enrolled through the API) publish real CBOR
 *           `sensors/{s}/traffic` messages of at most 1,000 rows each, like the agent, P pairs per
 *           sensor and minute, for as long as the collector keeps up or `seconds` pass, at most
 *           1,000 messages in flight (STACK.md pitfall 3). Measured: rows stored per second (counted
 *           in network_traffic, where located sensors' flows are stored once since sql/0018, once everything sent is stored), collector CPU (/proc of its pid),
 *           versus the goal S × P rows a minute.
 *   query   30 days of `network_traffic` for L locations (R rows a minute each, day partitions as
 *           the partition manager keeps them) bulk-loaded with INSERT … SELECT generate_series, then
 *           N × GET /network/traffic for one location and one day over HTTP: p50/p95/max.
 *
 * The storage side of ingest alone, in process: bench/network-store.ts.
 *
 * Needs PCAPMESH_TEST_DATABASE_URL (scripts/services.sh); a database of its own is created and dropped.
 * Usage: node --conditions=pcapmesh-src --import tsx bench/network.ts [ingest|query|all]
 *          [sensors=1000] [pairs=10000] [seconds=60] [locations=2] [rowsPerMinute=100] [requests=60]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { encodeMessage, Sequencer, topics } from '@pcapmesh/shared/wire';
import { CollectorProcess } from './lib/collector-process.js';
import { machine } from './lib/measure.js';

const [mode = 'all', ...rest] = process.argv.slice(2);
const [sensors, pairs, seconds, locations, rowsPerMinute, requests] = [1000, 10_000, 60, 2, 100, 60].map((d, i) => Number(rest[i] ?? d)) as [
  number,
  number,
  number,
  number,
  number,
  number,
];
const ROWS_PER_MESSAGE = 1_000;
const IN_FLIGHT = 1_000;
const DAYS = 30;

const baseUrl = process.env.PCAPMESH_TEST_DATABASE_URL;
if (!baseUrl) {
  console.error('PCAPMESH_TEST_DATABASE_URL is not set: scripts/services.sh start && eval "$(scripts/services.sh env)"');
  process.exit(2);
}
if (!['ingest', 'query', 'all'].includes(mode)) {
  console.error(`mode must be ingest, query or all, got ${mode}`);
  process.exit(2);
}

async function admin(sql: string, url = baseUrl!): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The flows of message `k` of a minute: pairs k·1000 … k·1000+999 of a sensor's P. */
function flows(k: number, count: number): { srcNet: string; dstNet: string; packets: number; bytes: number }[] {
  return Array.from({ length: count }, (_, i) => {
    const j = k * ROWS_PER_MESSAGE + i;
    return {
      srcNet: `10.${(j >> 8) & 255}.${j & 255}.0/24`,
      dstNet: `172.${16 + (j >> 16)}.${(j >> 8) & 255}.0/24`,
      packets: 10 + (j % 7),
      bytes: 1500 * (10 + (j % 7)),
    };
  });
}

async function ingest(collector: CollectorProcess, databaseUrl: string): Promise<string[]> {
  const names = Array.from({ length: sensors }, (_, i) => `s${String(i).padStart(4, '0')}`);
  const secrets = new Map<string, string>();
  const t0 = Date.now();
  await pool(names, 8, async (name) => {
    const { enrolment } = await collector.call<{ enrolment: { token: string } }>('POST', '/admin/sensors', {
      name,
      location: `site-${Number(name.slice(1)) % 10}`,
    });
    secrets.set(name, (await collector.call<{ secret: string }>('POST', '/enroll', { token: enrolment.token })).secret);
  });
  console.error(`enrolled ${sensors} sensors in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const clients = new Map<string, MqttClient>();
  let closed = 0;
  await pool(names, 32, async (name) => {
    const c = await mqtt.connectAsync(collector.mqttUrl, {
      username: name,
      password: secrets.get(name)!,
      clientId: name,
      protocolVersion: 4,
      // Like an agent: a lost connection comes back and the unacknowledged messages are sent again.
      reconnectPeriod: 1_000,
      connectTimeout: 30_000,
    });
    await c.publishAsync(topics.sensor(name, 'state'), Buffer.from(encodeMessage('state', new Sequencer(1).stamp('state', { status: 'online', bdSeq: 1 }))), {
      qos: 1,
    });
    c.on('close', () => closed++);
    clients.set(name, c);
  });
  console.error(`connected ${sensors} clients`);

  // One minute's messages, the same bytes for every sensor (the sensor is in the topic): rows are
  // keyed by sensor, so each is stored. Minutes from an hour ago onwards, one per round.
  const perMinute = Math.ceil(pairs / ROWS_PER_MESSAGE);
  const firstMinute = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
  const seq = new Sequencer(2);
  const minutePayloads = (m: number): Buffer[] =>
    Array.from({ length: perMinute }, (_, k) => {
      const body = {
        intervalStart: firstMinute + m * 60_000,
        intervalSeconds: 60,
        part: (m * 1000 + k).toString(16).padStart(16, '0'),
        flows: flows(k, Math.min(ROWS_PER_MESSAGE, pairs - k * ROWS_PER_MESSAGE)),
      };
      const buf = Buffer.from(encodeMessage('traffic', seq.stamp('traffic', body)));
      rowCount.set(buf, body.flows.length);
      return buf;
    });

  const rowCount = new Map<Buffer, number>();
  const rowsOf = (p: Buffer) => rowCount.get(p) ?? 0;
  const db = new pg.Client({ connectionString: databaseUrl });
  // The database is dropped (WITH FORCE) when the run fails: that must not hide the failure.
  db.on('error', () => undefined);
  await db.connect();
  const stored = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM network_traffic')).rows[0]!.n);
  // Inserted rows as PostgreSQL's statistics see them (cheap, about a second late): for pacing only.
  const inserted = async () =>
    Number(
      (await db.query<{ n: string | null }>("SELECT sum(n_tup_ins) AS n FROM pg_stat_user_tables WHERE relname LIKE 'network\\_traffic\\_l%'")).rows[0]!.n ?? 0,
    );
  // Warm-up, not timed: one small message per location, one at a time, so each location's traffic
  // table exists before the load (two sensors of a new location at once can race on creating it:
  // "relation network_traffic_lN already exists", see bench/README.md).
  for (let l = 0; l < Math.min(10, sensors); l++) {
    const name = names[l]!;
    const warm = Buffer.from(
      encodeMessage(
        'traffic',
        new Sequencer(1).stamp('traffic', {
          intervalStart: firstMinute - 60_000,
          intervalSeconds: 60,
          part: 'warmup',
          flows: flows(0, 1),
        }),
      ),
    );
    await clients.get(name)!.publishAsync(topics.sensor(name, 'traffic'), warm, { qos: 1 });
    for (let i = 0; i < 600 && (await stored()) < l + 1; i++) await new Promise((r) => setTimeout(r, 100));
  }
  const warmRows = await stored();
  const base0 = await inserted();
  const cpu0 = collector.cpuSeconds();
  const start = Date.now();
  let sentRows = 0;
  let inFlight = 0;
  let minutes = 0;
  let backlogWaits = 0;
  let offered = 0;
  let failed = 0;
  const goalPerMs = (sensors * pairs) / 60_000;
  const deadline = start + seconds * 1000;
  // Offered at the goal's rate (S × P rows a minute), never more than BACKLOG rows ahead of what is
  // stored (the embedded broker acknowledges before the handler has stored: without the cap the
  // backlog would sit in the collector's memory).
  const BACKLOG = 200_000;
  let storedSeen = 0;
  let lastPoll = 0;
  sending: while (Date.now() < deadline && minutes < 120) {
    const payloads = minutePayloads(minutes++);
    for (const name of names) {
      const c = clients.get(name)!;
      for (const p of payloads) {
        for (;;) {
          if (Date.now() >= deadline) break sending;
          if (Date.now() - lastPoll > 250) {
            storedSeen = (await inserted()) - base0;
            lastPoll = Date.now();
          }
          const aheadOfGoal = offered >= (Date.now() - start) * goalPerMs;
          const backlogFull = offered - storedSeen >= BACKLOG;
          if (inFlight < IN_FLIGHT && !aheadOfGoal && !backlogFull) break;
          if (backlogFull) backlogWaits++;
          await new Promise((r) => setTimeout(r, 5));
        }
        inFlight++;
        c.publishAsync(topics.sensor(name, 'traffic'), p, { qos: 1 }).then(
          () => {
            inFlight--;
            sentRows += rowsOf(p); // counted once acknowledged
          },
          (err: unknown) => {
            inFlight--;
            failed++;
            if (failed <= 5) console.error(String(err));
          },
        );
        offered += rowsOf(p);
      }
    }
  }
  const sentAt = Date.now();
  // Bounded: a client that lost its connection (e.g. its keep-alive ran out behind a long queue)
  // never sees its in-flight publishes acknowledged.
  const ackDeadline = Date.now() + 300_000;
  while (inFlight > 0 && Date.now() < ackDeadline) await new Promise((r) => setTimeout(r, 20));
  if (inFlight > 0) throw new Error(`${inFlight} publishes unacknowledged 300 s after sending ended (${closed} client connections closed)`);
  // Drained: everything sent is stored (or the collector stopped making progress for 60 s).
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const n = await stored();
    if (n - warmRows >= sentRows) break;
    if (n !== last) {
      last = n;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > 60_000) throw new Error(`stored ${n} of ${sentRows} rows; no progress for 60 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const end = Date.now();
  const cpu = collector.cpuSeconds() - cpu0;
  const rows = (await stored()) - warmRows;
  const samples = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM traffic_samples')).rows[0]!.n);
  await db.end();
  const lost = closed; // before the clients are ended
  await Promise.all([...clients.values()].map((c) => c.endAsync()));
  const wall = (end - start) / 1000;
  const goal = (sensors * pairs) / 60;
  return [
    `Ingest: ${sensors} sensors × ${pairs} pairs a minute (goal ${Math.round(goal).toLocaleString('en')} rows/s), ${ROWS_PER_MESSAGE} rows a message, ≤ ${IN_FLIGHT} in flight`,
    '',
    '| rows offered (at the goal rate, capped 200k ahead of storage) | stored (network_traffic rows) | traffic_samples rows | sending s | until all stored s | rows/s stored | of goal | collector CPU s | collector CPU % of one core |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${sentRows.toLocaleString('en')}${backlogWaits > 0 ? ' (backlog cap hit)' : ''}${failed > 0 ? ` (${failed} publishes failed)` : ''}${lost > 0 ? ` (${lost} client connections lost and resumed)` : ''} | ${rows.toLocaleString('en')} | ${samples.toLocaleString('en')} | ${((sentAt - start) / 1000).toFixed(1)} | ${wall.toFixed(1)} | ${Math.round(rows / wall).toLocaleString('en')} | ${((rows / wall / goal) * 100).toFixed(1)} % | ${cpu.toFixed(1)} | ${((cpu / wall) * 100).toFixed(0)} % |`,
  ];
}

async function query(collector: CollectorProcess, databaseUrl: string): Promise<string[]> {
  const db = new pg.Client({ connectionString: databaseUrl });
  // The database is dropped (WITH FORCE) when the run fails: that must not hide the failure.
  db.on('error', () => undefined);
  await db.connect();
  const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const first = today - (DAYS - 1) * 86_400_000;
  const ids: number[] = [];
  for (let l = 0; l < locations; l++) {
    // A location (and its sensor) made through the API, then its traffic table through ingest's own path:
    // one real message creates network_traffic_l{id}.
    const name = `q-site-${l}`;
    await collector.call('POST', '/admin/sensors', { name: `q${l}`, location: name });
    ids.push(Number((await db.query<{ id: string }>('SELECT id FROM locations WHERE name = $1', [name])).rows[0]!.id));
  }
  const sensorIds = (await db.query<{ id: string }>("SELECT id FROM sensors WHERE name LIKE 'q%' ORDER BY name")).rows.map((r) => Number(r.id));
  const { ensureLocationTrafficTable, locationTrafficTable, netIds } = await import('../collector/src/storage/network-traffic.repo.js');
  const q = { query: async <T>(sql: string, params?: unknown[]) => (await db.query(sql, params)).rows as T[] };
  const t0 = Date.now();
  for (const [i, id] of ids.entries()) {
    // In a transaction, as ingest calls it (it locks the parent table while it creates).
    await db.query('BEGIN');
    await ensureLocationTrafficTable(q as never, id);
    await db.query('COMMIT');
    const table = locationTrafficTable(id);
    for (let d = 0; d < DAYS + 1; d++) {
      const from = new Date(first + d * 86_400_000);
      const to = new Date(from.getTime() + 86_400_000);
      const part = `${table}_p${from.toISOString().slice(0, 10).replace(/-/g, '')}`;
      await db.query(`CREATE TABLE IF NOT EXISTS ${part} PARTITION OF ${table} FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
      // The rollups' day partitions (one per day for every location; made once).
      for (const rollup of i === 0 ? ['network_traffic_minute', 'network_pairs_hour'] : []) {
        const rp = `${rollup}_p${from.toISOString().slice(0, 10).replace(/-/g, '')}`;
        await db.query(`CREATE TABLE IF NOT EXISTS ${rp} PARTITION OF ${rollup} FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
      }
    }
    // The location's R subnet pairs (network_nets ids, sql/0020), as ingest would have added them.
    const src = (p: number) => `10.${i}.${p % 256}.0/24`;
    const dst = (p: number) => `192.0.${Math.floor(p / 256)}.0/24`;
    const ps = Array.from({ length: rowsPerMinute }, (_, p) => p);
    const nets = await netIds(q as never, [...ps.map(src), ...ps.map(dst)]);
    // R pairs every minute of 30 days, one day per statement.
    for (let d = 0; d < DAYS; d++) {
      const from = new Date(first + d * 86_400_000);
      await db.query(
        `INSERT INTO network_traffic (location_id, minute, sensor_id, src_id, dst_id, packets, bytes)
         SELECT $1, m, $2, p.src, p.dst, 10 + p.k % 7, 1500 * (10 + p.k % 7)
           FROM generate_series($3::timestamptz, $3::timestamptz + interval '1 day' - interval '1 minute', interval '1 minute') AS m,
                unnest($4::int4[], $5::int4[], $6::int4[]) AS p(k, src, dst)`,
        [id, sensorIds[i], from, ps, ps.map((p) => nets.get(src(p))), ps.map((p) => nets.get(dst(p)))],
      );
      // The rollups as ingest keeps them: the same sums, made here from the base rows of the day.
      await db.query(
        `INSERT INTO network_traffic_minute (location_id, minute, packets, bytes)
         SELECT location_id, minute, sum(packets), sum(bytes) FROM network_traffic
          WHERE location_id = $1 AND minute >= $2 AND minute < $2::timestamptz + interval '1 day' GROUP BY 1, 2`,
        [id, from],
      );
      await db.query(
        `INSERT INTO network_pairs_hour (location_id, hour, src_id, dst_id, packets, bytes)
         SELECT location_id, date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', src_id, dst_id, sum(packets), sum(bytes) FROM network_traffic
          WHERE location_id = $1 AND minute >= $2 AND minute < $2::timestamptz + interval '1 day' GROUP BY 1, 2, 3, 4`,
        [id, from],
      );
    }
    await db.query(`ANALYZE ${table}`);
  }
  await db.query('ANALYZE network_traffic_minute');
  await db.query('ANALYZE network_pairs_hour');
  const total = Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM network_traffic')).rows[0]!.n);
  const size = (
    await db.query<{ s: string }>(
      "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) AS s FROM pg_class c WHERE c.relname LIKE 'network_traffic_l%' AND c.relkind = 'r'",
    )
  ).rows[0]!.s;
  // The first request's totals must equal the base rows' sum (the rollups are exact).
  const [expected] = (
    await db.query<{ p: string }>('SELECT sum(packets) AS p FROM network_traffic WHERE location_id = $1 AND minute >= $2 AND minute < $3', [
      ids[0],
      new Date(first),
      new Date(first + 86_400_000),
    ])
  ).rows;
  await db.end();
  console.error(`loaded ${total} rows (${size}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

  // One location, one day (a different past day each request, so no result is reused), default bucket (1 min).
  const times: number[] = [];
  let checked = false;
  for (let n = 0; n < requests; n++) {
    const day = first + (n % (DAYS - 1)) * 86_400_000;
    const t = performance.now();
    const view = await collector.call<{ totals: { packets: number }; series: unknown[]; top: unknown[] }>(
      'GET',
      `/network/traffic?location=q-site-0&from=${day}&to=${day + 86_400_000}`,
    );
    times.push(performance.now() - t);
    if (!checked) {
      if (view.series.length !== 1440 || view.top.length !== 20) throw new Error(`unexpected answer: ${view.series.length} points, ${view.top.length} pairs`);
      if (view.totals.packets !== Number(expected!.p)) throw new Error(`totals ${view.totals.packets} packets, the base rows hold ${expected!.p}`);
      checked = true;
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return [
    `Query: GET /network/traffic, one location, one day (1,440 one-minute points + top 20 pairs), ${requests} requests over HTTP, one at a time`,
    `over ${DAYS} days × ${locations} locations × ${rowsPerMinute} rows a minute = ${total.toLocaleString('en')} rows (${size}); the asked day holds ${(rowsPerMinute * 1440).toLocaleString('en')} rows`,
    '',
    '| p50 ms | p95 ms | max ms | goal p95 | met |',
    '|---:|---:|---:|---:|---|',
    `| ${pct(50).toFixed(0)} | ${pct(95).toFixed(0)} | ${sorted[sorted.length - 1]!.toFixed(0)} | < 200 ms | ${pct(95) < 200 ? 'yes' : `no (${(pct(95) / 200).toFixed(1)}× the goal)`} |`,
  ];
}

const database = `pcapmesh_bench_${randomBytes(5).toString('hex')}`;
await admin(`CREATE DATABASE ${database}`);
const url = new URL(baseUrl);
url.pathname = `/${database}`;
const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-bench-network-'));
let collector: CollectorProcess | null = null;
try {
  collector = await CollectorProcess.create({
    dir,
    databaseUrl: url.toString(),
    mqtt: { maxConnectionsPerAddress: 5_000 },
    sections: { ingest: { healthIntervalSeconds: 600 } },
  });
  await collector.start();
  const out: string[] = [
    `Machine: ${machine()}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} at start`,
    '',
  ];
  if (mode !== 'query') out.push(...(await ingest(collector, url.toString())), '');
  if (mode !== 'ingest') out.push(...(await query(collector, url.toString())), '');
  out.push(
    `load average at the end ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')}`,
  );
  console.log(out.join('\n'));
} finally {
  await collector?.stop();
  for (let i = 0; ; i++) {
    try {
      await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      break;
    } catch (err) {
      // An autovacuum worker of another role may still be on it for a moment.
      if (i >= 20) {
        console.error(`could not drop database ${database}: ${String(err)}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
