/**
 * Finding 4 of #14: with an external broker, which keeps taking a revoked sensor's publishes,
 * ingest refuses the messages of revoked and unknown sensors (counted by reason) — on PGlite and
 * PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { encodeMessage, Sequencer, topics } from '@pcapmesh/shared/wire';
import { DomainEvents } from '../domain/events.js';
import { IngestStats } from '../domain/ingest-stats.js';
import { SensorService } from '../domain/sensors/sensors.service.js';
import { forEachDatabase } from '../testing/databases.js';
import { Ingest } from './ingest.js';

const log = pino({ level: 'silent' });
const seq = new Sequencer(1);
const birth = (bdSeq: number) => encodeMessage('state', seq.stamp('state', { status: 'online', bdSeq, version: '0.1.0', location: 'lab', interfaces: [] }));

forEachDatabase('ingest gate for revoked sensors', (ctx) => {
  test('a revoked sensor is refused until it gets a new secret; an unknown one always', async () => {
    const sensors = new SensorService({ db: ctx.db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
    const { secret } = await sensors.register({ name: 'alpha', location: 'lab' });
    const stats = new IngestStats();
    const ingest = new Ingest(sensors, stats, log, undefined, (name) => sensors.standing(name));

    await sensors.revokeSecret('alpha');
    assert.equal(await sensors.verifySecret('alpha', secret), false, 'the old secret no longer works');
    assert.equal(await sensors.standing('alpha'), 'revoked');
    assert.equal(await ingest.handle(topics.sensor('alpha', 'state'), birth(1)), 'done', 'acknowledged: the broker would only send it again');
    await ingest.handle(topics.sensor('alpha', 'health'), Uint8Array.from([0xff])); // refused before it is decoded
    await ingest.handle(topics.sensor('ghost', 'state'), birth(1));
    const snap = stats.snapshot();
    assert.equal(snap.rejected['revoked-sensor'], 2);
    assert.equal(snap.rejected['unknown-sensor'], 1);
    assert.equal(snap.acceptedTotal, 0);
    assert.equal((await sensors.status('alpha')).status, 'unknown', 'nothing of the revoked sensor was stored');

    // A rotate (or a new enrolment) lifts the revoke.
    const fresh = await sensors.rotateSecret('alpha');
    assert.equal(await sensors.verifySecret('alpha', fresh), true);
    await ingest.handle(topics.sensor('alpha', 'state'), birth(2));
    assert.equal(stats.snapshot().accepted.state, 1);
    assert.equal((await sensors.status('alpha')).status, 'online');
  });

  test('another collector sharing the database sees a revoke within the cache time', async () => {
    const a = new SensorService({ db: ctx.db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
    const b = new SensorService({ db: ctx.db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
    await a.register({ name: 'bravo', location: 'lab' });
    assert.equal(await b.standing('bravo'), 'active');
    await a.revokeSecret('bravo');
    const until = Date.now() + 8_000;
    while ((await b.standing('bravo')) !== 'revoked' && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
    assert.equal(await b.standing('bravo'), 'revoked');
  });
});
