import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DECODE_FAILURES } from '@pcapmesh/shared/wire';
import { INGEST_KINDS, IngestStats, REJECT_REASONS } from './ingest-stats.js';

test('counts by kind and reason; every key present; snapshots are copies', () => {
  const stats = new IngestStats();
  const empty = stats.snapshot();
  assert.deepEqual(Object.keys(empty.accepted), [...INGEST_KINDS]);
  assert.deepEqual(Object.keys(empty.rejected), [...REJECT_REASONS]);
  for (const reason of DECODE_FAILURES) assert.ok(REJECT_REASONS.includes(reason), `decode reason ${reason} is counted`);
  stats.accepted('health');
  stats.accepted('health');
  stats.rejected('schema');
  stats.rejected('duplicate');
  stats.rejected('duplicate');
  const snap = stats.snapshot();
  assert.equal(snap.accepted.health, 2);
  assert.equal(snap.rejected.duplicate, 2);
  assert.equal(snap.acceptedTotal, 2);
  assert.equal(snap.rejectedTotal, 3);
  assert.equal(empty.acceptedTotal, 0, 'an earlier snapshot does not change');
  assert.ok(!Number.isNaN(Date.parse(snap.since)));
});
