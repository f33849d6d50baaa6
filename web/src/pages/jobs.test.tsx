/**
 * Live progress: the jobs list and the job page move with the live feed's `job.status` and
 * `task.progress` events without a reload — progress bars (role progressbar, value in percent),
 * status badges, a task's error — and a toast says when one of the user's own jobs ended (not
 * another user's). The collector does not run under happy-dom: the snapshot is answered here as
 * its JobView/JobDetail types say; the events are the collector's own event types.
 */
import { Route, Router } from '@solidjs/router';
import { render, screen, waitFor } from '@solidjs/testing-library';
import { expect, test } from 'vitest';
import type { ApiClient } from '../api/client.js';
import type { JobDetail, JobStatusEvent, TaskProgressEvent, TaskView } from '../api/types.js';
import { JobToasts } from '../components/job-toasts.jsx';
import { ToastProvider } from '../components/toasts.jsx';
import { AppContext, type AppServices } from '../context.jsx';
import { createJobFeed, mayChangeJob, ownsJob } from '../state/jobs.js';
import JobPage from './job.jsx';
import JobsPage from './jobs.jsx';

const ID = '0190a3c4-0000-7000-8000-000000000001';
const AT = '2026-03-10T12:00:00.000Z';

function task(sensor: string): TaskView {
  return {
    id: `${ID.slice(0, 8)}-${sensor}`,
    job: ID,
    sensor,
    status: 'accepted',
    reason: null,
    attempt: 1,
    dispatchedAt: AT,
    startedAt: null,
    finishedAt: null,
    waitUntil: null,
    lastProgressAt: null,
    progress: null,
    result: null,
    upload: { size: null, received: 0, complete: false },
  };
}

function job(): JobDetail {
  return {
    id: ID,
    name: 'incident 42',
    owner: 'alice',
    ownerId: 'user:1',
    status: 'running',
    reason: null,
    window: { from: '2026-03-10T11:00:00.000Z', to: '2026-03-10T11:15:00.000Z', fromNs: '0', toNs: '0' },
    filter: { expression: 'tcp' },
    expression: 'tcp',
    targets: { auto: true },
    limits: { maxBytes: 0, maxPackets: 0, timeoutSeconds: 3600 },
    createdAt: AT,
    startedAt: AT,
    finishedAt: null,
    deadlineAt: AT,
    tasks: { total: 2, pending: 0, running: 2, done: 0, failed: 0, cancelled: 0, skipped: 0 },
    packets: 0,
    bytes: 0,
    result: null,
    expiresAt: null,
    expired: false,
    taskList: [task('edge-1'), task('edge-2')],
    plan: {
      window: { from: AT, to: AT, fromNs: '0', toNs: '0' },
      filter: 'tcp',
      limits: { maxBytes: 0, maxPackets: 0, timeoutSeconds: 3600 },
      scheduled: false,
      sensors: [],
    },
  };
}

function jobEvent(e: Partial<JobStatusEvent>): JobStatusEvent {
  return {
    type: 'job.status',
    job: ID,
    event: 'progress',
    status: 'running',
    owner: 'alice',
    ownerId: 'user:1',
    name: 'incident 42',
    window: { from: AT, to: AT },
    tasks: { total: 2, done: 0, failed: 0, running: 2 },
    packets: 0,
    bytes: 0,
    at: AT,
    ...e,
  };
}

function taskEvent(sensor: string, e: Partial<TaskProgressEvent>): TaskProgressEvent {
  return {
    type: 'task.progress',
    job: ID,
    task: `${ID.slice(0, 8)}-${sensor}`,
    sensor,
    status: 'scanning',
    attempt: 1,
    reason: null,
    progress: null,
    at: AT,
    ...e,
  };
}

/** The page as `user` sees it; alice (user:1) owns the job. */
function show(path: string, user: { username: string; id?: string }) {
  const feed = createJobFeed();
  const detail = job();
  const api = {
    jobs: async () => ({ jobs: [detail], next: null }),
    job: async () => structuredClone(detail),
    jobAnalysis: async () => {
      throw new Error('no analysis in this test');
    },
    jobManifest: async () => {
      throw new Error('no manifest in this test');
    },
  } as unknown as ApiClient;
  const services = {
    api,
    jobFeed: feed,
    preferences: { timeZone: () => 'UTC' },
    session: { user: () => ({ ...user, role: 'analyst' }) },
  } as unknown as AppServices;
  window.history.replaceState(null, '', path);
  render(() => (
    <AppContext.Provider value={services}>
      <ToastProvider>
        <JobToasts />
        <Router>
          <Route path="/jobs" component={JobsPage} />
          <Route path="/jobs/:id" component={JobPage} />
        </Router>
      </ToastProvider>
    </AppContext.Provider>
  ));
  return { feed, detail };
}

const bar = (name: string) => screen.getByRole('progressbar', { name }).getAttribute('aria-valuenow');

test('jobs list: the bar and status follow job.status events; the owner gets a toast when it ends', async () => {
  const { feed } = show('/jobs', { username: 'alice', id: 'user:1' });
  await waitFor(() => screen.getByRole('progressbar', { name: 'Progress of incident 42' }));
  expect(bar('Progress of incident 42')).toBe('0');
  expect(screen.getByRole('button', { name: 'Cancel job incident 42' })).toBeTruthy();

  feed.emit(jobEvent({ tasks: { total: 2, done: 1, failed: 0, running: 1 }, packets: 10 }));
  expect(bar('Progress of incident 42')).toBe('48');
  expect(document.querySelector(`tr[data-job="${ID}"]`)!.getAttribute('data-status')).toBe('running');

  feed.emit(jobEvent({ event: 'merging', status: 'merging', tasks: { total: 2, done: 2, failed: 0, running: 0 } }));
  expect(bar('Progress of incident 42')).toBe('97');

  feed.emit(
    jobEvent({
      event: 'complete',
      status: 'complete',
      tasks: { total: 2, done: 2, failed: 0, running: 0 },
      result: { fileBytes: 100, sha256: 'ab', packets: 20 },
    }),
  );
  expect(bar('Progress of incident 42')).toBe('100');
  expect(document.querySelector(`tr[data-job="${ID}"] [data-status]`)!.textContent).toBe('complete');
  expect(screen.queryByRole('button', { name: 'Cancel job incident 42' })).toBeNull();
  expect(screen.getByRole('status').textContent).toContain('Job “incident 42” complete');
});

test('job page: the bar of each task follows task.progress (scanning by bytes, uploading by bytes sent), a failed task shows its error; no toast for a job of another user', async () => {
  const { feed, detail } = show(`/jobs/${ID}`, { username: 'bob', id: 'user:2' });
  await waitFor(() => screen.getByRole('progressbar', { name: 'Progress of edge-1' }));
  expect(bar('Progress of edge-1')).toBe('0');
  // bob is an analyst and not the owner: no cancel, no delete.
  expect(screen.queryByRole('button', { name: 'Cancel job' })).toBeNull();

  const progress = { filesScanned: 1, filesTotal: 2, packets: 5, bytes: 500, bytesScanned: 50, bytesTotal: 100 };
  feed.emit(taskEvent('edge-1', { status: 'scanning', progress }));
  expect(bar('Progress of edge-1')).toBe('40');
  expect(document.querySelector('tr[data-sensor="edge-1"]')!.textContent).toContain('files 1/2');
  feed.emit(taskEvent('edge-1', { status: 'uploading', progress: { ...progress, bytesScanned: 100, uploaded: 250, uploadTotal: 1000 } }));
  expect(bar('Progress of edge-1')).toBe('85');
  feed.emit(taskEvent('edge-2', { status: 'failed', reason: 'no progress for 120 s (attempt 3 of 3)' }));
  expect(bar('Progress of edge-2')).toBe('100');
  expect(document.querySelector('tr[data-sensor="edge-2"] [data-task-error]')!.textContent).toBe('no progress for 120 s (attempt 3 of 3)');
  // The job's bar: the mean of its tasks' (0.85 and 1) × 0.95.
  expect(bar('Job progress')).toBe('88');

  // An ended job is reloaded (its result, hashes): the collector answers it failed by then.
  Object.assign(detail, { status: 'failed', reason: 'edge-2 failed' });
  feed.emit(jobEvent({ event: 'failed', status: 'failed', reason: 'edge-2 failed' }));
  await waitFor(() => expect(document.querySelector('.page-head [data-status]')!.textContent).toBe('failed'));
  await waitFor(() => expect(document.querySelector('.job-facts')!.textContent).toContain('edge-2 failed'));
  expect(
    screen
      .queryAllByRole('alert')
      .map((a) => a.textContent)
      .join(''),
  ).not.toContain('incident 42');
  expect(document.querySelector('.toasts')!.textContent).toBe('');
});

test('ownership is by principal id, not name: an "alice" re-created after the owner was deleted (user:9) gets no cancel and no toast', async () => {
  const { feed } = show('/jobs', { username: 'alice', id: 'user:9' });
  await waitFor(() => screen.getByRole('progressbar', { name: 'Progress of incident 42' }));
  expect(screen.queryByRole('button', { name: 'Cancel job incident 42' })).toBeNull();
  feed.emit(
    jobEvent({
      event: 'complete',
      status: 'complete',
      tasks: { total: 2, done: 2, failed: 0, running: 0 },
      result: { fileBytes: 100, sha256: 'ab', packets: 20 },
    }),
  );
  expect(bar('Progress of incident 42')).toBe('100');
  expect(screen.queryByRole('button', { name: 'Delete job incident 42' })).toBeNull(); // the owner would have one now
  expect(document.querySelector('.toasts')!.textContent).toBe('');
});

test('ownsJob / mayChangeJob compare principal ids: tokens and users, an unknown id, an owner gone', () => {
  const analyst = (id?: string) => ({ username: 'ci', role: 'analyst', ...(id ? { id } : {}) });
  expect(ownsJob(analyst('token:3'), 'token:3')).toBe(true);
  expect(ownsJob(analyst('token:4'), 'token:3')).toBe(false); // same label "ci", another token
  expect(ownsJob(analyst('user:3'), 'token:3')).toBe(false); // a user and a token with the same number
  expect(ownsJob(analyst(), 'token:3')).toBe(false); // the session's id not known yet
  expect(ownsJob(analyst('token:3'), null)).toBe(false); // the owner was deleted
  expect(ownsJob(null, 'token:3')).toBe(false);
  expect(mayChangeJob(analyst('token:3'), 'token:3')).toBe(true);
  expect(mayChangeJob(analyst('token:4'), 'token:3')).toBe(false);
  expect(mayChangeJob({ role: 'admin' }, 'token:3')).toBe(true);
  expect(mayChangeJob({ role: 'admin' }, null)).toBe(true);
  expect(mayChangeJob({ id: 'token:3', role: 'viewer' }, 'token:3')).toBe(false);
});
