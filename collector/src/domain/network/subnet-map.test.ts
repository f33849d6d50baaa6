import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, type Sighting } from './subnet-map.js';

const t = new Date('2026-03-10T12:00:00Z');
const seen = (locationId: number, bytes: number, local: boolean): Sighting => ({ locationId, bytes, packets: bytes / 100, firstSeen: t, lastSeen: t, local });
const rule = { externalMinLocations: 0 };

test('seen at one location only: learned there with confidence 1', () => {
  assert.deepEqual(
    { ...classify([seen(1, 500, true)], 2, rule), firstSeen: undefined, lastSeen: undefined },
    { state: 'learned', locationId: 1, confidence: 1, locations: 1, packets: 5, bytes: 500, firstSeen: undefined, lastSeen: undefined },
  );
});

test('a site subnet seen elsewhere only in flows between sites (transit) stays at its site', () => {
  // Site 1 sees its local traffic (local evidence) and the inter-site flow; site 2 only that flow.
  const v = classify([seen(1, 900, true), seen(2, 300, false)], 2, rule);
  assert.equal(v.state, 'learned');
  assert.equal(v.locationId, 1);
  assert.equal(v.confidence, 0.75);
  assert.equal(v.locations, 2);
});

test('local evidence at every reporting location: external', () => {
  assert.equal(classify([seen(1, 100, true), seen(2, 100, true)], 2, rule).state, 'external');
  const three = classify([seen(1, 100, true), seen(2, 100, true)], 3, rule);
  assert.equal(three.state, 'ambiguous', 'two of three locations, no externalMinLocations');
  assert.equal(three.locationId, null);
  const n2 = classify([seen(1, 100, true), seen(2, 100, true)], 3, { externalMinLocations: 2 });
  assert.equal(n2.state, 'external');
  assert.equal(n2.confidence, 0.667);
});

test('seen only in flows that several locations saw: ambiguous, no location', () => {
  const v = classify([seen(1, 100, false), seen(2, 300, false)], 2, rule);
  assert.equal(v.state, 'ambiguous');
  assert.equal(v.locationId, null);
  assert.equal(v.confidence, 0.75);
});

test('one reporting location: everything it sees is learned there', () => {
  assert.equal(classify([seen(4, 1, true)], 1, rule).state, 'learned');
});
