/**
 * The analysis tables sort by the column whose header is pressed (descending first, again:
 * ascending), say so with aria-sort, and mark sketch estimates with "≈"; the protocol hierarchy
 * groups the protocols by layer with their share of the packets.
 */
import { fireEvent, render, screen } from '@solidjs/testing-library';
import { expect, test } from 'vitest';
import type { AnalysisReport } from '../api/types.js';
import { JobAnalysis } from './job-analysis.jsx';

const dir = (packets: number, bytes: number) => ({ packets, bytes });
const flow = (a: string, b: string, packets: number, bytes: number, first: number, last: number) => ({
  a,
  b,
  aPort: 1000,
  bPort: 443,
  transport: 'tcp' as const,
  packets,
  bytes,
  aToB: dir(packets, bytes),
  bToA: dir(0, 0),
  first,
  last,
});

const report = {
  version: 1,
  files: ['x.pcap'],
  capture: { packets: 100, bytes: 10_000, capturedBytes: 10_000, first: 0, last: 10, durationSeconds: 10, linkTypes: [1], problems: [] },
  protocols: [
    { protocol: 'ethernet', packets: 100, bytes: 10_000 },
    { protocol: 'ipv4', packets: 75, bytes: 9_000 },
    { protocol: 'tcp', packets: 50, bytes: 8_000 },
  ],
  topTalkers: [],
  conversations: {
    ip: [],
    flows: [
      flow('10.0.0.1', '10.0.0.2', 5, 9_000, 0, 1),
      { ...flow('10.0.0.3', '10.0.0.4', 40, 1_000, 0, 9), approximate: true },
      flow('10.0.0.5', '10.0.0.6', 20, 3_000, 2, 4),
    ],
    ipTable: { distinct: 0, cap: 0, capped: false },
    flowTable: { distinct: 3, cap: 10, capped: false },
    talkerTable: { distinct: 0, cap: 0, capped: false },
  },
  topPorts: [],
  timeline: { start: 0, bucketSeconds: 1, packets: [10, 0, 90], bytes: [1, 0, 9] },
  dns: [],
  tlsSni: [{ name: 'example.com', count: 3 }],
  httpHosts: [],
} as unknown as AnalysisReport;

test('flows sort by the pressed column, descending then ascending; estimates marked; protocols by layer', () => {
  render(() => <JobAnalysis report={report} timeZone="UTC" />);
  const table = screen.getByRole('table', { name: 'Flows' });
  const firstColumnB = () => [...table.querySelectorAll('tbody tr')].map((tr) => tr.children[2]!.textContent);
  // Initially by bytes, largest first.
  expect(firstColumnB()).toEqual(['10.0.0.2:443', '10.0.0.6:443', '10.0.0.4:443']);
  const packets = table.querySelector('thead th:nth-child(4) button')!;
  fireEvent.click(packets);
  expect(firstColumnB()).toEqual(['10.0.0.4:443', '10.0.0.6:443', '10.0.0.2:443']);
  expect(packets.parentElement!.getAttribute('aria-sort')).toBe('descending');
  fireEvent.click(packets);
  expect(firstColumnB()).toEqual(['10.0.0.2:443', '10.0.0.6:443', '10.0.0.4:443']);
  expect(packets.parentElement!.getAttribute('aria-sort')).toBe('ascending');
  expect(table.querySelector('thead th:nth-child(5)')!.getAttribute('aria-sort')).toBe('none');
  expect(table.querySelector('tbody tr:last-child td:nth-child(4)')!.textContent).toBe('≈ 40');

  const tree = screen.getByRole('list', { name: 'Protocol hierarchy' });
  expect(tree.querySelector('[data-protocol="ipv4"]')!.textContent).toBe('ipv4: 75 packets (75.0 %), 9.0 kB');
  expect([...tree.querySelectorAll(':scope > li > strong')].map((s) => s.textContent)).toEqual(['Link', 'Network', 'Transport']);
  expect(screen.getByRole('img', { name: /3 buckets of 1 s/ }).querySelectorAll('rect').length).toBe(3);
});
