/**
 * Loader of the jobs page: GET /jobs with the chosen filters (status, owner, created from/to),
 * newest first, 50 a page; "Older jobs" appends the next page (cursor paging). Live: a `job.status`
 * event updates its row in place, a job submitted since the load is fetched and put on top when no
 * filter is set, and `hello` (the feed reconnected) reloads the first page.
 */
import { createSignal } from 'solid-js';
import type { JobStatus, JobView } from '../api/types.js';
import type { AppServices } from '../context.jsx';
import { applyJobEvent } from '../state/jobs.js';

export interface JobsFilter {
  status?: JobStatus[];
  owner?: string;
  /** ISO 8601: created at or after / before. */
  from?: string;
  to?: string;
}

export const JOBS_PAGE = 50;

export function loadJobs(app: Pick<AppServices, 'api' | 'jobFeed'>) {
  const [jobs, setJobs] = createSignal<JobView[]>([]);
  const [next, setNext] = createSignal<string | null>(null);
  const [error, setError] = createSignal<Error | null>(null);
  const [loading, setLoading] = createSignal(true);
  let filter: JobsFilter = {};

  async function page(cursor?: string): Promise<void> {
    setLoading(true);
    try {
      const res = await app.api.jobs({ ...filter, limit: JOBS_PAGE, ...(cursor ? { cursor } : {}) });
      setJobs((list) => (cursor ? [...list, ...res.jobs] : res.jobs));
      setNext(res.next);
      setError(null);
    } catch (err) {
      setError(err as Error);
    } finally {
      setLoading(false);
    }
  }

  const unfiltered = () => !filter.status?.length && !filter.owner && !filter.from && !filter.to;

  app.jobFeed.subscribe((m) => {
    if (m.type === 'hello') {
      void page();
      return;
    }
    if (m.type !== 'job.status') return;
    const known = jobs().some((j) => j.id === m.job);
    if (known) setJobs((list) => list.map((j) => (j.id === m.job ? applyJobEvent(j, m) : j)));
    else if (m.event === 'submitted' && unfiltered()) {
      void app.api.job(m.job).then(
        (job) => setJobs((list) => (list.some((j) => j.id === job.id) ? list : [job, ...list])),
        () => undefined,
      );
    }
  });

  void page();
  return {
    jobs,
    next,
    error,
    loading,
    apply(f: JobsFilter): Promise<void> {
      filter = Object.fromEntries(Object.entries(f).filter(([, v]) => (Array.isArray(v) ? v.length > 0 : v))) as JobsFilter;
      return page();
    },
    more: () => page(next() ?? undefined),
    reload: () => page(),
    /** Removes a deleted job from the list. */
    drop: (id: string) => setJobs((list) => list.filter((j) => j.id !== id)),
    /** Replaces a job (after a cancel). */
    put: (job: JobView) => setJobs((list) => list.map((j) => (j.id === job.id ? { ...j, ...job } : j))),
  };
}
