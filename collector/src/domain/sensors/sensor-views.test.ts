import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toPcapSourceView } from './sensor-views.js';

test('the API view of a capture source: times as ISO 8601 with all nine digits of the nanoseconds', () => {
  const source = {
    name: 'eth0',
    directory: '/data/pcap',
    oldest: { sec: 1_700_000_000, nsec: 5 },
    newest: { sec: 1_700_003_600, nsec: 123_456_789 },
    files: 2,
    bytes: 10,
    gaps: [{ from: { sec: 1_700_001_000, nsec: 0 }, to: { sec: 1_700_002_000, nsec: 999_999_999 } }],
    problems: [],
    indexedFiles: 1,
  };
  assert.deepEqual(toPcapSourceView(source), {
    ...source,
    oldest: '2023-11-14T22:13:20.000000005Z',
    newest: '2023-11-14T23:13:20.123456789Z',
    gaps: [{ from: '2023-11-14T22:30:00.000000000Z', to: '2023-11-14T22:46:40.999999999Z' }],
  });
  assert.deepEqual(toPcapSourceView({ ...source, oldest: null, newest: null, gaps: [] }), { ...source, oldest: null, newest: null, gaps: [] });
});
