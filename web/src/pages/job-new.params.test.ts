// @vitest-environment node
/** The job form's first fields from its URL: what the search box's "capture this" link carries. */
import { expect, test } from 'vitest';
import { captureHref } from '../search/groups.js';
import { fieldsFromParams, type JobFields } from './job-new.data.js';

const defaults: JobFields = {
  name: '',
  filterMode: 'structured',
  expression: '',
  hosts: '',
  nets: '',
  ports: '',
  protocol: '',
  direction: 'either',
  from: 1_000,
  to: 2_000,
  targetMode: 'auto',
  sensors: [],
  locations: [],
};
const params = (href: string) => Object.fromEntries(new URL(href, 'http://x').searchParams);

test('the capture link of an address fills hosts, the window and the sensors', () => {
  const href = captureHref(
    {
      filter: { expression: 'host 10.1.2.3' },
      window: { from: '2026-03-01T10:00:00.000Z', to: '2026-03-01T11:00:00.000Z' },
      targets: { sensors: ['edge-1', 'edge-2'] },
    } as Parameters<typeof captureHref>[0],
    '10.1.2.3',
  );
  const { fields, problems } = fieldsFromParams(params(href), defaults);
  expect(problems).toEqual([]);
  expect(fields).toMatchObject({
    filterMode: 'structured',
    hosts: '10.1.2.3',
    from: Date.parse('2026-03-01T10:00:00Z'),
    to: Date.parse('2026-03-01T11:00:00Z'),
    targetMode: 'sensors',
    sensors: ['edge-1', 'edge-2'],
  });
});

test('another filter goes to the expression; locations are targets; nothing given keeps the defaults', () => {
  const { fields } = fieldsFromParams({ filter: 'net 10.1.0.0/16 and tcp', locations: 'lab,dc-2' }, defaults);
  expect(fields).toMatchObject({ filterMode: 'expression', expression: 'net 10.1.0.0/16 and tcp', targetMode: 'locations', locations: ['lab', 'dc-2'] });
  expect(fieldsFromParams({}, defaults)).toEqual({ fields: defaults, problems: [] });
});

test('a window that does not parse, or is reversed, keeps the default window and is named', () => {
  const bad = fieldsFromParams({ from: 'yesterday', to: '2026-03-01T11:00:00Z' }, defaults);
  expect([bad.fields.from, bad.fields.to]).toEqual([1_000, 2_000]);
  expect(bad.problems).toEqual(['from: "yesterday" is not an ISO 8601 time with a zone']);
  const reversed = fieldsFromParams({ from: '2026-03-01T12:00:00Z', to: '2026-03-01T11:00:00Z' }, defaults);
  expect(reversed.problems).toEqual(['window: from must be before to']);
  expect(fieldsFromParams({ from: '2026-03-01T10:00:00', to: '2026-03-01T11:00:00Z' }, defaults).problems[0]).toMatch(/^from: .* with a zone$/);
});
