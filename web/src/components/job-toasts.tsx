/**
 * A toast when one of the signed-in user's jobs ends (complete, partial, failed, cancelled), from
 * the live feed's `job.status` events; other users' jobs and progress events are ignored. Renders
 * nothing itself.
 */
import type { JSX } from 'solid-js';
import { useApp } from '../context.jsx';
import { JOB_FINAL, ownsJob } from '../state/jobs.js';
import { useToasts } from './toasts.jsx';

export function JobToasts(): JSX.Element {
  const { jobFeed, session } = useApp();
  const toasts = useToasts();
  jobFeed.subscribe((m) => {
    if (m.type !== 'job.status' || m.event !== m.status || !JOB_FINAL.includes(m.status)) return;
    if (!ownsJob(session.user(), m.ownerId)) return;
    const what = m.name ? `“${m.name}”` : m.job.slice(0, 8);
    const kind = m.status === 'complete' ? 'success' : m.status === 'partial' || m.status === 'cancelled' ? 'info' : 'error';
    toasts.show({ kind, text: `Job ${what} ${m.status}${m.reason ? `: ${m.reason}` : ''}` });
  });
  return null;
}
