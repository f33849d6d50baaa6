/**
 * Loader of the job page: GET /jobs/{id} (the job, its tasks and plan) kept live by the feed —
 * `job.status` of this job updates it and, once it ends, reloads it (result name, hashes);
 * `task.progress` updates its task (an unknown task reloads); `hello` reloads. The analysis and
 * the evidence manifest are fetched once the job has a result.
 */
import { createEffect, createResource, createSignal, on, type Accessor } from 'solid-js';
import type { JobDetail } from '../api/types.js';
import type { AppServices } from '../context.jsx';
import { applyJobEvent, applyTaskEvent, JOB_FINAL } from '../state/jobs.js';

export function loadJob(app: Pick<AppServices, 'api' | 'jobFeed'>, id: Accessor<string>) {
  const [job, setJob] = createSignal<JobDetail | null>(null);
  const [error, setError] = createSignal<Error | null>(null);

  async function reload(): Promise<void> {
    const want = id();
    try {
      const j = await app.api.job(want);
      if (want === id()) {
        setJob(j);
        setError(null);
      }
    } catch (err) {
      setError(err as Error);
    }
  }

  createEffect(on(id, () => void reload()));

  app.jobFeed.subscribe((m) => {
    if (m.type === 'hello') {
      void reload();
      return;
    }
    const current = job();
    if (!current || m.job !== current.id) return;
    if (m.type === 'job.status') {
      setJob({ ...current, ...applyJobEvent(current, m) });
      if (JOB_FINAL.includes(m.status)) void reload();
      return;
    }
    if (!current.taskList.some((t) => t.id === m.task)) {
      void reload();
      return;
    }
    setJob({ ...current, taskList: current.taskList.map((t) => (t.id === m.task ? applyTaskEvent(t, m) : t)) });
  });

  const hasResult = () => {
    const j = job();
    return j && j.result && j.result.fileName && !j.expired ? j.id : null;
  };
  const [analysis] = createResource(hasResult, (jobId) => app.api.jobAnalysis(jobId));
  const [manifest] = createResource(hasResult, (jobId) => app.api.jobManifest(jobId));

  return { job, error, reload, analysis, manifest };
}
