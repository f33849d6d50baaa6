/**
 * Batched sensor ingest and the fleet view (#17 A), on PGlite and PostgreSQL:
 * - many sensors' messages in one transaction keep each sensor's rules (bdSeq, duplicates by seq,
 *   degraded from health), with the same outcome as one at a time;
 * - the fleet view answers list() without a query, and equals what a restarted collector loads
 *   from the database;
 * - a message the database refuses for its data (alone or in a batch) is 'unstorable' and logged
 *   with its sensor and seq; the others are stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Db, Queryable } from '../../storage/db.js';
import { forEachDatabase } from '../../testing/databases.js';
import { birth, health, pcap, uniqueName, will } from './sensors.fixture.js';
import { SensorService } from './sensors.service.js';
import { DomainEvents } from '../events.js';
import { createLogger } from '../../log.js';

const log = createLogger({ log: { level: 'silent' } });

/** `db` with a count of the statements run through it (transactions included). */
function counting(db: Db): { db: Db; statements: () => number } {
  let n = 0;
  const wrap = (q: Queryable): Queryable => ({
    query: (sql, params) => ((n += 1), q.query(sql, params)),
    exec: (sql) => ((n += 1), q.exec(sql)),
  });
  const counted: Db = Object.create(db) as Db;
  Object.assign(counted, {
    query: wrap(db).query,
    exec: wrap(db).exec,
    transaction: <R>(fn: (tx: Queryable) => Promise<R>) => db.transaction((tx) => fn(wrap(tx))),
  });
  return { db: counted, statements: () => n };
}

forEachDatabase('sensor batches and the fleet view', (ctx) => {
  test('twelve sensors in one batch: each sensor’s rules hold, few statements, and the fleet view equals a fresh load', async () => {
    const { db, statements } = counting(ctx.db);
    const events = new DomainEvents();
    const statusEvents: string[] = [];
    events.on('sensor.status', (e) => statusEvents.push(`${e.sensor}:${e.previous}->${e.status}`));
    // One batch takes exactly the 12 messages of each round (no timer fires first).
    const sensors = new SensorService({ db, events, log, heartbeatTimeoutSeconds: 30, sensorBatch: { maxMessages: 12, maxDelayMs: 60_000 } });
    const names = Array.from({ length: 12 }, () => uniqueName('b'));
    for (const name of names) await sensors.register({ name, location: 'lab' });
    await sensors.list(); // load the view before ingest, so ingest must keep it current

    const eth0 = [{ name: 'eth0', managed: true, directory: '/data/pcap' }];
    const births = await Promise.all(names.map((n, i) => sensors.ingestState(n, birth(1, 10, { interfaces: eth0, location: i % 2 ? 'lab' : 'dc-2' }))));
    assert.deepEqual(births, Array(12).fill('applied'));

    const base = Date.now() - 60_000;
    const before = statements();
    const round = await Promise.all(
      names.map((n, i) => {
        if (i === 0) return sensors.ingestState(n, will(0, 5)); // a late will of an older session
        if (i === 1) return sensors.ingestState(n, birth(1, 10)); // a replayed birth
        if (i === 2)
          return sensors.ingestPcap(
            n,
            pcap(11, [
              {
                name: 'eth0',
                directory: '/data/pcap',
                files: 2,
                bytes: 10,
                oldest: { sec: 1_700_000_000, nsec: 1_000 },
                newest: { sec: 1_700_000_100, nsec: 0 },
                gaps: [],
                problems: [],
              },
            ]),
          );
        if (i === 3) return sensors.ingestHealth(n, health(11, base + i, { captures: [{ interface: 'eth0', running: false, error: 'no such device' }] }));
        if (i === 4)
          return sensors.ingestHealth(
            n,
            health(11, base + i, { disks: [{ mount: '/data', fs: 'ext4', size: 100, used: 95, available: 5, directories: ['/data/pcap'] }] }),
          );
        return sensors.ingestHealth(n, health(11, base + i, { cpu: { usage: 33.3 + i / 7, cores: 4 } }));
      }),
    );
    assert.deepEqual(round, ['stale', 'duplicate', ...Array(10).fill('applied')]);
    const used = statements() - before;
    assert.ok(used <= 12, `one batch of 12 messages took ${used} statements (per message it was ~8 each)`);

    // The same health reports again in the next batch (beside three first reports): the replays store nothing.
    const next = await Promise.all(names.map((n, i) => sensors.ingestHealth(n, health(11, base + i))));
    assert.deepEqual(next, [...Array(3).fill('applied'), ...Array(9).fill('duplicate')]);

    const fromView = await sensors.list();
    const byName = new Map(fromView.map((v) => [v.name, v]));
    assert.equal(byName.get(names[0]!)!.status, 'online', 'a stale will changes nothing');
    assert.equal(byName.get(names[3]!)!.status, 'degraded');
    assert.match(byName.get(names[3]!)!.statusReason ?? '', /capture eth0 not running: no such device/);
    assert.match(byName.get(names[4]!)!.statusReason ?? '', /disk \/data 95% full/);
    assert.equal(byName.get(names[2]!)!.pcap.oldest, '2023-11-14T22:13:20.000001Z');
    assert.equal(byName.get(names[5]!)!.latestHealth?.at, new Date(base + 5).toISOString());
    assert.ok(statusEvents.includes(`${names[3]}:online->degraded`));

    const before2 = statements();
    await sensors.list();
    await sensors.get(names[7]!);
    assert.equal(statements() - before2, 0, 'list() and get() answer from memory');

    // A collector started afresh on the same database loads exactly what this one kept in memory.
    const restarted = new SensorService({ db: ctx.db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
    const loaded = (await restarted.list()).filter((v) => names.includes(v.name));
    assert.deepEqual(
      loaded,
      fromView.filter((v) => names.includes(v.name)),
    );
  });

  test('a message the database refuses for its data is unstorable, alone or in a batch, and the others are stored', async () => {
    const lines: string[] = [];
    const warnLog = createLogger({ log: { level: 'warn' } }, { destination: { write: (line: string) => void lines.push(line) } });
    const sensors = new SensorService({
      db: ctx.db,
      events: new DomainEvents(),
      log: warnLog,
      heartbeatTimeoutSeconds: 30,
      sensorBatch: { maxMessages: 4, maxDelayMs: 60_000 },
    });
    const names = Array.from({ length: 4 }, () => uniqueName('p'));
    for (const name of names) await sensors.register({ name });
    const at = Date.now() - 1_000;
    // A NUL in a text value: PostgreSQL's jsonb refuses it (22P05), PGlite alike.
    const poisoned = (seq: number) =>
      health(seq, at + seq, { disks: [{ mount: '/da\u0000ta', fs: 'ext4', size: 10, used: 1, available: 9, directories: [] }] });
    const results = await Promise.allSettled(names.map((n, i) => sensors.ingestHealth(n, i === 2 ? poisoned(1) : health(1, at))));
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : r.status)),
      ['applied', 'applied', 'unstorable', 'applied'],
    );
    // Alone (a batch of one, as when the sensor sends it again): the same verdict, not an error to retry.
    const solo = new SensorService({
      db: ctx.db,
      events: new DomainEvents(),
      log: warnLog,
      heartbeatTimeoutSeconds: 30,
      sensorBatch: { maxMessages: 1, maxDelayMs: 0 },
    });
    assert.equal(await solo.ingestHealth(names[2]!, poisoned(7)), 'unstorable');
    // In a group with good messages of the same sensor before and after it.
    const group = await solo.ingestSensorMessages([
      { kind: 'health', sensor: names[2]!, msg: health(8, at + 8) },
      { kind: 'health', sensor: names[2]!, msg: poisoned(9) },
      { kind: 'health', sensor: names[2]!, msg: health(10, at + 10) },
    ]);
    assert.deepEqual(group, ['applied', 'unstorable', 'applied']);

    const rows = await ctx.db.query<{ name: string; seq: number | string }>(
      'SELECT s.name, h.seq FROM health_samples h JOIN sensors s ON s.id = h.sensor_id WHERE s.name = ANY($1::text[]) ORDER BY s.name, h.seq',
      [names],
    );
    assert.deepEqual(
      rows.map((r) => `${r.name}#${Number(r.seq)}`).sort(),
      [`${names[0]}#1`, `${names[1]}#1`, `${names[2]}#8`, `${names[2]}#10`, `${names[3]}#1`].sort(),
    );
    // Each refusal logged with the sensor, kind, seq and SQLSTATE, never the payload.
    const refusals = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => /refuses this sensor message/.test(String(l.msg)));
    assert.deepEqual(
      refusals.map((l) => [l.sensor, l.kind, l.seq, l.sqlstate]),
      [1, 7, 9].map((seq) => [names[2], 'health', seq, '22P05']),
    );
    assert.ok(!lines.some((l) => l.includes('/da')), `no payload value in the log: ${lines.filter((l) => l.includes('/da')).join('')}`);
  });
});
