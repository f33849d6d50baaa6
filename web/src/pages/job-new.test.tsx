/**
 * The new-job form as rendered: a dry run's filter error is shown under the field (an alert tied to
 * the input by aria-describedby, the input aria-invalid) with the position marked in the text, and
 * disappears when fixed; the plan's coverage preview shows each target with its bar (the window
 * drawn over the availability, the plan's gaps marked) and the estimate; the quick ranges set the
 * window, future ones too. The collector does not run under happy-dom: the dry run answers here
 * with the collector's message format, which job-new.data.test.ts checks against its real app.
 */
import { Route, Router } from '@solidjs/router';
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { expect, test } from 'vitest';
import { ApiError, type ApiClient, type JobSubmit } from '../api/client.js';
import type { JobPlan, SensorView } from '../api/types.js';
import { ToastProvider } from '../components/toasts.jsx';
import { AppContext, type AppServices } from '../context.jsx';
import { JobForm } from './job-new.jsx';

const NOW = Date.parse('2026-03-10T12:00:00Z');
const requests: JobSubmit[] = [];

function plan(body: JobSubmit): JobPlan {
  const from = String(body.window.from);
  const to = String(body.window.to);
  return {
    window: { from, to, fromNs: '0', toNs: '0' },
    filter: 'host 10.1.2.3',
    limits: { maxBytes: 0, maxPackets: 0, timeoutSeconds: 3600 },
    scheduled: Date.parse(to) > NOW,
    sensors: [
      {
        sensor: 'edge-1',
        location: 'lab',
        status: 'online',
        coverage: { fraction: 0.5, gaps: [{ from, to: new Date(Date.parse(from) + (Date.parse(to) - Date.parse(from)) / 2).toISOString() }] },
        bytesInWindow: 2_500_000,
        estimate: { files: 2, indexedFiles: 2, bytesToRead: 400_000, matchUpperBound: { packets: 1200, bytes: 300_000 } },
        included: true,
      },
    ],
  };
}

const api = {
  dryRunJob: async (body: JobSubmit) => {
    requests.push(body);
    const expr = 'expression' in body.filter ? body.filter.expression : '';
    const at = expr?.indexOf('xx') ?? -1;
    if (at >= 0) throw new ApiError(`filter: at ${at}: expected a port number or name, got 'xx'`, 400, 'invalid');
    return { plan: plan(body) };
  },
} as unknown as ApiClient;

const edge1 = {
  name: 'edge-1',
  location: 'lab',
  pcap: {
    oldest: '2026-03-10T11:00:00Z',
    newest: '2026-03-10T12:00:00Z',
    updatedAt: null,
    sources: [
      {
        name: 'eth0',
        directory: '/d',
        oldest: '2026-03-10T11:00:00Z',
        newest: '2026-03-10T12:00:00Z',
        files: 2,
        bytes: 1,
        gaps: [],
        indexedFiles: 2,
        unindexedFiles: 0,
        problems: [],
      },
    ],
  },
} as unknown as SensorView;

function show(): void {
  const services = {
    api,
    fleet: { state: { sensors: { 'edge-1': edge1 } } },
    preferences: { timeZone: () => 'Europe/Berlin' },
  } as unknown as AppServices;
  window.history.replaceState(null, '', '/jobs/new');
  render(() => (
    <AppContext.Provider value={services}>
      <ToastProvider>
        <Router>
          <Route path="/jobs/new" component={() => <JobForm debounceMs={5} now={() => NOW} />} />
        </Router>
      </ToastProvider>
    </AppContext.Provider>
  ));
}

const filterError = () => document.querySelector('[data-field="filter"]')!;

test('a bad expression: the error under the field, tied to it, with its position marked; fixed: gone, the plan shows', async () => {
  show();
  fireEvent.click(screen.getByLabelText('Expression'));
  const input = (await waitFor(() => screen.getByLabelText(/^Expression \(tcpdump/))) as HTMLTextAreaElement;
  const bad = 'host 10.1.2.3 and tcp port xx';
  fireEvent.input(input, { target: { value: bad } });
  await waitFor(() => expect(filterError().textContent).toBe("filter: at 27: expected a port number or name, got 'xx'"));
  expect(filterError().getAttribute('role')).toBe('alert');
  expect(input.getAttribute('aria-invalid')).toBe('true');
  expect(input.getAttribute('aria-describedby')).toBe(filterError().id);
  const mark = document.querySelector('.filter-mark')!;
  expect(mark.getAttribute('data-position')).toBe('27');
  expect(mark.textContent).toBe(bad);
  expect(mark.querySelector('mark')!.textContent).toBe('x');
  expect(document.querySelector('.coverage-preview')!.getAttribute('data-state')).toBe('invalid');

  fireEvent.input(input, { target: { value: 'host 10.1.2.3' } });
  await waitFor(() => expect(document.querySelector('.coverage-preview')!.getAttribute('data-state')).toBe('ok'));
  expect(filterError().textContent).toBe('');
  expect(document.querySelector('.filter-mark')).toBeNull();
  expect(input.getAttribute('aria-invalid')).toBe('false');

  // The coverage row: half covered, one gap, the window drawn, the estimate.
  const row = document.querySelector('tr[data-plan-sensor="edge-1"]')!;
  expect(row.querySelector('[role=img]')!.getAttribute('aria-label')).toBe('edge-1: 50 % of the window covered, 1 gap in it');
  expect(row.querySelectorAll('[data-gap]').length).toBe(1);
  const win = row.querySelector<HTMLElement>('[data-window]')!;
  // Availability 11:00-12:00, window 11:45-12:00: the window is the last quarter of the scale.
  expect(win.style.left).toBe('75%');
  expect(row.textContent).toContain('≤ 300 kB (1,200 packets)');
});

test('a port that is no number is refused before any request; quick ranges set the window, a future one too', async () => {
  show();
  requests.length = 0;
  fireEvent.input(screen.getByLabelText('Ports'), { target: { value: '443, 8o8o' } });
  await waitFor(() => expect(filterError().textContent).toBe('ports: "8o8o" is not a port (0-65535)'));
  await new Promise((r) => setTimeout(r, 30));
  expect(requests).toEqual([]);
  fireEvent.input(screen.getByLabelText('Ports'), { target: { value: '443' } });

  fireEvent.click(screen.getByRole('button', { name: 'Last hour' }));
  await waitFor(() => expect(requests.at(-1)?.window).toEqual({ from: '2026-03-10T11:00:00.000Z', to: '2026-03-10T12:00:00.000Z' }));
  // Shown in the preferred zone (Berlin, UTC+1), and in UTC when asked.
  expect((screen.getByLabelText('From') as HTMLInputElement).value).toBe('2026-03-10T12:00');
  fireEvent.click(screen.getByLabelText('Times in UTC'));
  await waitFor(() => expect((screen.getByLabelText('From') as HTMLInputElement).value).toBe('2026-03-10T11:00'));

  fireEvent.click(screen.getByRole('button', { name: 'Next 15 min' }));
  await waitFor(() => expect(requests.at(-1)?.window).toEqual({ from: '2026-03-10T12:00:00.000Z', to: '2026-03-10T12:15:00.000Z' }));
  expect(document.querySelector('.hint')!.textContent).toBe('The window reaches into the future: the sensors wait for it to close.');
  await waitFor(() => expect(document.querySelector('.coverage-preview')!.textContent).toContain('scheduled: the window reaches into the future'));
});
