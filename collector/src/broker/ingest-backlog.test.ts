/**
 * #14 / #17: a sensor's spooled backlog through the embedded broker, ingest and SensorService on
 * PGlite (all real parts).
 * - Pipelined: a backlog published at once is stored many reports per commit (received_at is the
 *   storing transaction's start, so distinct values count commits), every report acknowledged and
 *   stored once.
 * - A report the database refuses for its data (a CHECK constraint added here refuses seq 5: a
 *   value the schema allows and the database never accepts) is acknowledged and counted as
 *   'unstorable' instead of being retried for ever; the sensor stays connected and the reports
 *   after it are stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, topics } from '@pcapmesh/shared/wire';
import { health } from '../domain/sensors/sensors.fixture.js';
import { createTestBroker } from './broker.fixture.js';

const STORED_SQL = `SELECT h.seq, h.received_at AS "receivedAt" FROM health_samples h JOIN sensors s ON s.id = h.sensor_id
  WHERE s.name = $1 ORDER BY h.seq`;

test("a sensor's backlog is stored many reports per commit, each acknowledged once stored", async () => {
  const t = await createTestBroker(['backlog']);
  try {
    const client = await t.client({ clientId: 'backlog', username: 'backlog', password: t.secrets.backlog!, clean: true });
    const N = 400;
    const sentAt = Date.now() - 3_600_000;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        client.publishAsync(topics.sensor('backlog', 'health'), Buffer.from(encodeMessage('health', health(i + 1, sentAt + i * 1000))), { qos: 1 }),
      ),
    );
    const rows = await t.db.query<{ seq: number | string; receivedAt: Date }>(STORED_SQL, ['backlog']);
    assert.deepEqual(
      rows.map((r) => Number(r.seq)),
      Array.from({ length: N }, (_, i) => i + 1),
      'every acknowledged report stored once',
    );
    const commits = new Set(rows.map((r) => new Date(r.receivedAt).getTime())).size;
    assert.ok(commits <= N / 4, `${N} reports of one sensor stored in ${commits} commits (one per report before pipelining)`);
    assert.equal(t.stats.snapshot().accepted.health, N);
  } finally {
    await t.close();
  }
});

test('a report the database refuses for its data is acknowledged, counted unstorable, and does not block the ones after it', async () => {
  const t = await createTestBroker(['poisoned']);
  try {
    await t.db.exec('ALTER TABLE health_samples ADD CONSTRAINT test_refuses_seq_5 CHECK (seq <> 5)');
    const client = await t.client({ clientId: 'poisoned', username: 'poisoned', password: t.secrets.poisoned!, clean: true });
    let closes = 0;
    client.on('close', () => (closes += 1));
    const sentAt = Date.now() - 60_000;
    const publish = (seq: number) =>
      client.publishAsync(topics.sensor('poisoned', 'health'), Buffer.from(encodeMessage('health', health(seq, sentAt + seq))), { qos: 1 });
    // Alone (the first batch of the sensor), then in a backlog with good reports around it.
    await publish(5);
    await Promise.all([4, 5, 6, 7].map(publish));
    const rows = await t.db.query<{ seq: number | string }>(STORED_SQL, ['poisoned']);
    assert.deepEqual(
      rows.map((r) => Number(r.seq)),
      [4, 6, 7],
    );
    const snap = t.stats.snapshot();
    assert.equal(snap.rejected.unstorable, 2, 'each refused report counted once');
    assert.equal(snap.rejected['store-error'], 0, 'not a store error: resending cannot help');
    assert.equal(closes, 0, 'the sensor was not disconnected');
  } finally {
    await t.close();
  }
});
