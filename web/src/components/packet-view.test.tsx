/**
 * The packet view over the collector's real PacketsService (domain/jobs/packets.service.ts) and the
 * PCAP library, on a generated capture of 250 packets: the first page lists packets 1–100 and the
 * first packet's layers and bytes; ↓ selects the next packet and the detail follows; "Next page"
 * lists 101–200; "Go to packet" jumps to a packet on the last page; the hex dump shows the bytes.
 * (The HTTP layer is not under test here: collector/src/http/routes/job-packets.test.ts is.)
 */
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, expect, test } from 'vitest';
import { writeCapture } from '../../../shared/src/pcap/gen/output.js';
import { PacketsService } from '../../../collector/src/domain/jobs/packets.service.js';
import type { JobDetail } from '../api/types.js';
import { hexLines, PacketView } from './packet-view.jsx';

const JOB = '0190a3c4-0000-7000-8000-000000000001';
const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-packet-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'merged.pcap');
writeCapture(file, { seed: 5, packets: 250 });
const service = new PacketsService({
  // The job's rights check (JobsService.get) answers the owner; the result file is the generated capture.
  jobs: { get: async () => ({ owner: 'alice', ownerId: 'user:1' }) as unknown as JobDetail },
  results: { mergedFile: async () => ({ path: file, size: 0, fileName: 'merged.pcap', contentType: 'application/vnd.tcpdump.pcap' }) },
  log: pino({ level: 'silent' }),
});
const alice = { id: 'user:1', name: 'alice', role: 'analyst' } as const;
const api = {
  jobPackets: (id: string, offset: number, limit: number) => service.page(alice, id, offset, limit),
  jobPacket: (id: string, n: number) => service.packet(alice, id, n),
};

test('hexLines: 16 bytes a line with their offsets', () => {
  const lines = hexLines('00'.repeat(20));
  expect(lines.map((l) => [l.offset, l.bytes.length])).toEqual([
    [0, 16],
    [16, 4],
  ]);
});

test('pages, keyboard selection and "go to packet"', async () => {
  render(() => <PacketView api={api} jobId={JOB} />);
  await screen.findByText('Packets 1–100 of 250');
  const grid = screen.getByRole('grid', { name: 'Packets' });
  await waitFor(() => expect(document.querySelector('[data-packet-layers="1"]')).not.toBeNull());
  expect(document.querySelector('[data-hexdump]')?.textContent, 'its owner sees the bytes').toMatch(/^0000 [0-9a-f]{2} /);

  fireEvent.keyDown(grid, { key: 'ArrowDown' });
  await waitFor(() => expect(document.querySelector('[data-packet-layers="2"]')).not.toBeNull());

  fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
  await screen.findByText('Packets 101–200 of 250');
  await waitFor(() => expect(document.querySelector('[data-packet-layers="101"]')).not.toBeNull());
  expect(screen.getByRole('grid', { name: 'Packets' }).querySelector('[role=row][data-key="101"]')).not.toBeNull();

  fireEvent.input(screen.getByLabelText('Go to packet'), { target: { value: '240' } });
  fireEvent.click(screen.getByRole('button', { name: 'Go' }));
  await screen.findByText('Packets 201–250 of 250');
  await waitFor(() => expect(document.querySelector('[data-packet-layers="240"]')).not.toBeNull());
  const active = screen.getByRole('grid', { name: 'Packets' }).getAttribute('aria-activedescendant');
  expect(document.getElementById(active ?? '')?.getAttribute('data-key')).toBe('240');
  expect((screen.getByRole('button', { name: 'Next page' }) as HTMLButtonElement).disabled).toBe(true);
});
