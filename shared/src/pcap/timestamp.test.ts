import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTimestamps, formatTimestamp, timestampToDecimal } from './timestamp.js';

test('formatTimestamp agrees with Date across eras and goes beyond its range', () => {
  for (const sec of [0, 59, 86_399, 86_400, 951_782_400, 1_413_054_930, 2_147_483_648, 4_294_967_296, 4_354_819_200, -1, -86_401, 253_402_300_799]) {
    assert.equal(formatTimestamp({ sec, nsec: 0 }, 0), new Date(sec * 1000).toISOString().replace('.000Z', 'Z'), `sec ${sec}`);
  }
  assert.equal(formatTimestamp({ sec: 18_446_744_073_204, nsec: 126_329_000 }, 6), '586524-01-19T07:53:24.126329Z'); // what capinfos prints
  assert.equal(formatTimestamp({ sec: 1_413_054_930, nsec: 198_203_999 }, 6), '2014-10-11T19:15:30.198203Z');
  assert.equal(timestampToDecimal({ sec: 5, nsec: 7 }), '5.000000007');
  assert.ok(compareTimestamps({ sec: 1, nsec: 2 }, { sec: 1, nsec: 3 }) < 0);
});
