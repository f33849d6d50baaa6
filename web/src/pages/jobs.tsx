/**
 * Jobs: every job, newest first, with live status and a progress bar per job; filters by status,
 * owner and creation time (in the user's time zone); cancel and delete where the user may (admins
 * any job, analysts their own); "New job" for analysts and admins.
 */
import { A } from '@solidjs/router';
import { For, Show, type JSX } from 'solid-js';
import type { ApiError } from '../api/client.js';
import type { JobStatus, JobView } from '../api/types.js';
import { JobStatusBadge } from '../components/job-status-badge.jsx';
import { ProgressBar } from '../components/progress-bar.jsx';
import { useToasts } from '../components/toasts.jsx';
import { useApp } from '../context.jsx';
import { JOB_FINAL, jobFraction, mayChangeJob } from '../state/jobs.js';
import { formatDateTime, wallToInstant } from '../time/zone.js';
import { loadJobs } from './jobs.data.js';
import '../styles/jobs.css';

const STATUS_FILTERS: { value: string; label: string; statuses: JobStatus[] }[] = [
  { value: '', label: 'any', statuses: [] },
  { value: 'open', label: 'open (pending, running, merging)', statuses: ['pending', 'running', 'merging'] },
  { value: 'complete', label: 'complete', statuses: ['complete'] },
  { value: 'partial', label: 'partial', statuses: ['partial'] },
  { value: 'failed', label: 'failed', statuses: ['failed'] },
  { value: 'cancelled', label: 'cancelled', statuses: ['cancelled'] },
];

export default function JobsPage(): JSX.Element {
  const app = useApp();
  const toasts = useToasts();
  const list = loadJobs(app);
  const tz = () => app.preferences.timeZone();
  const user = () => app.session.user();
  const maySubmit = () => user()?.role === 'analyst' || user()?.role === 'admin';

  function filter(e: SubmitEvent): void {
    e.preventDefault();
    const f = new FormData(e.currentTarget as HTMLFormElement);
    const wall = (k: string) => {
      const v = String(f.get(k) ?? '');
      return v ? new Date(wallToInstant(v, tz())).toISOString() : undefined;
    };
    try {
      void list.apply({
        status: STATUS_FILTERS.find((s) => s.value === f.get('status'))?.statuses ?? [],
        owner: String(f.get('owner') ?? '').trim() || undefined,
        from: wall('from'),
        to: wall('to'),
      });
    } catch (err) {
      toasts.show({ kind: 'error', text: (err as Error).message });
    }
  }

  async function cancel(job: JobView): Promise<void> {
    try {
      list.put(await app.api.cancelJob(job.id));
      toasts.show({ kind: 'info', text: `Job ${job.name ?? job.id.slice(0, 8)} cancelled.` });
    } catch (err) {
      toasts.show({ kind: 'error', text: `Cancel failed: ${(err as ApiError).message}` });
    }
  }

  async function remove(job: JobView): Promise<void> {
    if (!window.confirm(`Delete job ${job.name ?? job.id}? Its results are removed.`)) return;
    try {
      await app.api.deleteJob(job.id);
      list.drop(job.id);
      toasts.show({ kind: 'info', text: `Job ${job.name ?? job.id.slice(0, 8)} deleted.` });
    } catch (err) {
      toasts.show({ kind: 'error', text: `Delete failed: ${(err as ApiError).message}` });
    }
  }

  return (
    <section aria-labelledby="jobs-title">
      <div class="page-head">
        <h1 id="jobs-title">Jobs</h1>
        <Show when={maySubmit()}>
          <A href="/jobs/new" class="button">
            New job
          </A>
        </Show>
      </div>
      <form class="toolbar" onSubmit={filter} aria-label="Filter the jobs">
        <label for="jobs-status">Status</label>
        <select id="jobs-status" name="status">
          <For each={STATUS_FILTERS}>{(s) => <option value={s.value}>{s.label}</option>}</For>
        </select>
        <label for="jobs-owner">Owner</label>
        <input id="jobs-owner" name="owner" placeholder="username" />
        <label for="jobs-from">Created from ({tz()})</label>
        <input id="jobs-from" name="from" type="datetime-local" />
        <label for="jobs-to">to</label>
        <input id="jobs-to" name="to" type="datetime-local" />
        <button type="submit">Filter</button>
      </form>
      <Show when={list.error()}>
        <p role="alert">Could not load the jobs: {list.error()?.message}</p>
      </Show>
      <div class="table-scroll">
        <table aria-labelledby="jobs-title" class="jobs-table">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Owner</th>
              <th scope="col">Status</th>
              <th scope="col">Progress</th>
              <th scope="col">Window</th>
              <th scope="col">Packets</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={list.jobs()}
              fallback={
                <tr>
                  <td colspan="8">{list.loading() ? 'Loading…' : 'No jobs.'}</td>
                </tr>
              }
            >
              {(job) => (
                <tr data-job={job.id} data-status={job.status}>
                  <td>
                    <A href={`/jobs/${job.id}`}>{job.name ?? job.id.slice(0, 8)}</A>
                  </td>
                  <td>{job.owner}</td>
                  <td>
                    <JobStatusBadge status={job.status} title={job.reason} />
                  </td>
                  <td>
                    <ProgressBar fraction={jobFraction(job)} label={`Progress of ${job.name ?? job.id}`} state={job.status} />
                  </td>
                  <td>
                    {formatDateTime(Date.parse(job.window.from), tz())} – {formatDateTime(Date.parse(job.window.to), tz())}
                  </td>
                  <td>{job.packets.toLocaleString()}</td>
                  <td>{formatDateTime(Date.parse(job.createdAt), tz())}</td>
                  <td class="row-actions">
                    <Show when={mayChangeJob(user(), job.ownerId)}>
                      <Show when={!JOB_FINAL.includes(job.status)}>
                        <button type="button" onClick={() => void cancel(job)} aria-label={`Cancel job ${job.name ?? job.id}`}>
                          Cancel
                        </button>
                      </Show>
                      <button type="button" class="danger" onClick={() => void remove(job)} aria-label={`Delete job ${job.name ?? job.id}`}>
                        Delete
                      </button>
                    </Show>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <Show when={list.next()}>
        <button type="button" onClick={() => void list.more()}>
          Older jobs
        </button>
      </Show>
    </section>
  );
}
