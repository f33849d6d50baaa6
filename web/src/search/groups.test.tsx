/**
 * The search box's results: grouped by kind in a fixed order (address first), empty kinds left out,
 * each hit linking to its page; an address seen by sensors offers "Capture this" linking to the job
 * form with filter, window, sensors and host. GET /search is answered as its SearchView type says.
 */
import { Router, Route } from '@solidjs/router';
import { render, screen } from '@solidjs/testing-library';
import { expect, test } from 'vitest';
import type { SearchView } from '../api/types.js';
import { SearchResults } from '../components/search-box.jsx';
import { captureHref, searchGroups } from './groups.js';

const AT = '2026-03-10T12:00:00.000Z';

function answer(): SearchView {
  return {
    q: '10.1.2.3',
    sensors: [{ name: 'edge-1', location: 'berlin', status: 'online', hostname: 'edge-1.lan', lastSeen: AT }],
    locations: [],
    subnets: [{ subnet: '10.1.2.0/24', state: 'learned', location: 'berlin', lastSeen: AT, bytes: 2_000 }],
    jobs: [{ id: 'j1', name: null, owner: 'alice', status: 'complete', filter: 'host 10.1.2.3', createdAt: AT }],
    users: null,
    address: {
      query: '10.1.2.3/32',
      host: true,
      window: { from: '2026-03-03T12:00:00.000Z', to: AT },
      subnet: { subnet: '10.1.2.0/24', state: 'learned', location: 'berlin', lastSeen: AT, bytes: 2_000 },
      location: 'berlin',
      sightings: [
        { sensor: 'edge-1', location: 'berlin', firstSeen: '2026-03-10T10:00:00.000Z', lastSeen: '2026-03-10T11:00:00.000Z', packets: 4, bytes: 400 },
      ],
      jobRequest: {
        window: { from: '2026-03-10T10:00:00.000Z', to: '2026-03-10T11:00:00.000Z' },
        filter: { expression: 'host 10.1.2.3' },
        targets: { sensors: ['edge-1'] },
      },
    },
  };
}

test('groups in the order address, sensors, locations, subnets, jobs, users; empty kinds left out', () => {
  const groups = searchGroups(answer());
  expect(groups.map((g) => g.kind)).toEqual(['address', 'sensors', 'subnets', 'jobs']);
  expect(groups[0]!.items.map((i) => i.label)).toEqual(['In 10.1.2.0/24', 'Seen by edge-1']);
  expect(groups[1]!.items[0]).toMatchObject({ label: 'edge-1', href: '/sensors/edge-1' });
  expect(groups[2]!.items[0]!.href).toBe('/network?location=berlin');
  expect(groups[3]!.items[0]).toMatchObject({ label: 'j1', href: '/jobs/j1' });
  const withUsers = searchGroups({ ...answer(), address: null, users: [{ username: 'alice', role: 'admin', disabled: true }] });
  expect(withUsers.map((g) => g.kind)).toEqual(['sensors', 'subnets', 'jobs', 'users']);
  expect(withUsers[3]!.items[0]!.detail).toBe('admin · disabled');
});

test('capture link carries the filter, window, sensors and the bare host', () => {
  const url = new URL(captureHref(answer().address!.jobRequest!, '10.1.2.3'), 'http://x');
  expect(url.pathname).toBe('/jobs/new');
  expect(Object.fromEntries(url.searchParams)).toEqual({
    filter: 'host 10.1.2.3',
    from: '2026-03-10T10:00:00.000Z',
    to: '2026-03-10T11:00:00.000Z',
    sensors: 'edge-1',
    host: '10.1.2.3',
  });
});

test('rendered results: a labelled section per kind with links, and "Capture this" for the address', () => {
  render(() => (
    <Router>
      <Route path="*" component={() => <SearchResults view={answer()} onPick={() => undefined} />} />
    </Router>
  ));
  const sections = screen.getAllByRole('region').map((s) => s.getAttribute('aria-label'));
  expect(sections).toEqual(['Address 10.1.2.3/32', 'Sensors', 'Subnets', 'Jobs']);
  const capture = screen.getByRole('link', { name: 'Capture this' });
  expect(capture.getAttribute('href')).toContain('/jobs/new?filter=host+10.1.2.3');
  expect(capture.getAttribute('href')).toContain('host=10.1.2.3');
  expect(screen.getByRole('link', { name: 'edge-1' }).getAttribute('href')).toBe('/sensors/edge-1');
});

test('nothing found says so', () => {
  render(() => (
    <Router>
      <Route path="*" component={() => <SearchResults view={{ ...answer(), sensors: [], subnets: [], jobs: [], address: null }} onPick={() => undefined} />} />
    </Router>
  ));
  expect(screen.getByText('Nothing matches “10.1.2.3”.')).toBeTruthy();
});
