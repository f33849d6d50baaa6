/**
 * One job: its facts and live progress, each sensor's task with live progress and its error, the
 * downloads (merged, and each sensor's result — fetched with the session's bearer token and saved
 * from a Blob, since a plain link cannot carry it), the evidence manifest with the command that
 * verifies it, the analysis of the merged capture and its packet view (components/packet-view.tsx). Cancel and delete where the user may.
 */
import { useNavigate, useParams } from '@solidjs/router';
import { For, Show, type JSX } from 'solid-js';
import type { ApiError, Download } from '../api/client.js';
import type { TaskView } from '../api/types.js';
import { JobAnalysis } from '../components/job-analysis.jsx';
import { JobStatusBadge } from '../components/job-status-badge.jsx';
import { PacketView } from '../components/packet-view.jsx';
import { ProgressBar } from '../components/progress-bar.jsx';
import { useToasts } from '../components/toasts.jsx';
import { useApp } from '../context.jsx';
import { formatBytes, JOB_FINAL, jobFraction, mayChangeJob, taskFraction } from '../state/jobs.js';
import { formatDateTime } from '../time/zone.js';
import { loadJob } from './job.data.js';
import '../styles/jobs.css';

/** Saves a Blob under `fileName` through a temporary object URL. */
function save(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function taskDetail(t: TaskView): string {
  const p = t.progress;
  if (t.status === 'waiting' && t.waitUntil) return `waits for the window to close (until ${t.waitUntil})`;
  if (!p) return '';
  const parts = [`${p.packets.toLocaleString()} packets, ${formatBytes(p.bytes)}`];
  if (t.status === 'scanning') parts.push(`files ${p.filesScanned}/${p.filesTotal}`);
  if (t.status === 'uploading' && p.uploadTotal) parts.push(`uploaded ${formatBytes(p.uploaded ?? 0)} of ${formatBytes(p.uploadTotal)}`);
  return parts.join(' · ');
}

export default function JobPage(): JSX.Element {
  const app = useApp();
  const toasts = useToasts();
  const navigate = useNavigate();
  const params = useParams<{ id: string }>();
  const data = loadJob(app, () => params.id);
  const tz = () => app.preferences.timeZone();
  const user = () => app.session.user();
  const mayDownload = () => {
    const j = data.job();
    return !!j && mayChangeJob(user(), j.ownerId);
  };

  async function download(task?: TaskView): Promise<void> {
    const j = data.job();
    if (!j) return;
    try {
      const d: Download = await app.api.downloadJob(j.id, task?.id);
      save(d.blob, d.fileName);
    } catch (err) {
      toasts.show({ kind: 'error', text: `Download failed: ${(err as ApiError).message}` });
    }
  }

  async function cancel(): Promise<void> {
    const j = data.job();
    if (!j) return;
    try {
      await app.api.cancelJob(j.id);
      await data.reload();
    } catch (err) {
      toasts.show({ kind: 'error', text: `Cancel failed: ${(err as ApiError).message}` });
    }
  }

  async function remove(): Promise<void> {
    const j = data.job();
    if (!j || !window.confirm(`Delete job ${j.name ?? j.id}? Its results are removed.`)) return;
    try {
      await app.api.deleteJob(j.id);
      toasts.show({ kind: 'info', text: `Job ${j.name ?? j.id.slice(0, 8)} deleted.` });
      navigate('/jobs');
    } catch (err) {
      toasts.show({ kind: 'error', text: `Delete failed: ${(err as ApiError).message}` });
    }
  }

  return (
    <section aria-labelledby="job-title">
      <Show when={data.error() && !data.job()}>
        <h1 id="job-title">Job</h1>
        <p role="alert">Could not load the job: {data.error()?.message}</p>
      </Show>
      <Show when={data.job()}>
        {(job) => (
          <>
            <div class="page-head">
              <h1 id="job-title">{job().name ?? `Job ${job().id.slice(0, 8)}`}</h1>
              <JobStatusBadge status={job().status} title={job().reason} />
              <ProgressBar fraction={jobFraction(job(), job().taskList)} label="Job progress" state={job().status} />
              <Show when={mayChangeJob(user(), job().ownerId)}>
                <span class="row-actions">
                  <Show when={!JOB_FINAL.includes(job().status)}>
                    <button type="button" onClick={() => void cancel()}>
                      Cancel job
                    </button>
                  </Show>
                  <button type="button" class="danger" onClick={() => void remove()}>
                    Delete job
                  </button>
                </span>
              </Show>
            </div>
            <dl class="job-facts">
              <dt>Id</dt>
              <dd>
                <code>{job().id}</code>
              </dd>
              <dt>Owner</dt>
              <dd>{job().owner}</dd>
              <dt>Window</dt>
              <dd>
                {formatDateTime(Date.parse(job().window.from), tz())} – {formatDateTime(Date.parse(job().window.to), tz())} ({tz()})
              </dd>
              <dt>Filter</dt>
              <dd>
                <code>{job().expression || '(every packet)'}</code>
              </dd>
              <dt>Matched</dt>
              <dd data-packets={job().packets}>
                {job().packets.toLocaleString()} packets, {formatBytes(job().bytes)}
              </dd>
              <Show when={job().reason}>
                <dt>Reason</dt>
                <dd>{job().reason}</dd>
              </Show>
              <Show when={job().expiresAt}>
                <dt>{job().expired ? 'Expired' : 'Results expire'}</dt>
                <dd>{formatDateTime(Date.parse(job().expiresAt!), tz())}</dd>
              </Show>
            </dl>

            <h2>Sensors</h2>
            <div class="table-scroll">
              <table aria-label="Tasks per sensor">
                <thead>
                  <tr>
                    <th scope="col">Sensor</th>
                    <th scope="col">Status</th>
                    <th scope="col">Progress</th>
                    <th scope="col">Detail</th>
                    <th scope="col">Result</th>
                  </tr>
                </thead>
                <tbody>
                  <For each={job().taskList}>
                    {(t) => (
                      <tr data-task={t.id} data-sensor={t.sensor} data-status={t.status}>
                        <th scope="row">{t.sensor}</th>
                        <td>
                          <JobStatusBadge status={t.status} />
                          <Show when={t.attempt > 1}> (attempt {t.attempt})</Show>
                        </td>
                        <td>
                          <ProgressBar fraction={taskFraction(t)} label={`Progress of ${t.sensor}`} state={t.status} />
                        </td>
                        <td>
                          {taskDetail(t)}
                          <Show when={t.reason}>
                            <p class="field-error" data-task-error>
                              {t.reason}
                            </p>
                          </Show>
                        </td>
                        <td>
                          <Show
                            when={t.result && t.status === 'done' && mayDownload() && !job().expired}
                            fallback={t.result ? `${t.result.packets.toLocaleString()} packets` : '–'}
                          >
                            <button type="button" onClick={() => void download(t)} aria-label={`Download the result of ${t.sensor}`}>
                              Download ({formatBytes(t.upload.size ?? 0)})
                            </button>
                          </Show>
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>

            <Show when={job().result}>
              {(result) => (
                <section aria-labelledby="job-result">
                  <h2 id="job-result">Result</h2>
                  <p>
                    <code>{result().fileName}</code>: {result().packets.toLocaleString()} packets, {formatBytes(result().fileBytes)},{' '}
                    {result().duplicatesRemoved.toLocaleString()} duplicates removed. SHA-256 <code data-sha256>{result().sha256}</code>
                  </p>
                  <Show when={mayDownload() && !job().expired}>
                    <button type="button" onClick={() => void download()}>
                      Download merged PCAP
                    </button>
                  </Show>
                </section>
              )}
            </Show>

            <Show when={data.manifest()}>
              {(m) => (
                <section class="manifest" aria-labelledby="job-manifest">
                  <h2 id="job-manifest">Evidence manifest</h2>
                  <p>
                    Signed (Ed25519). Merged file SHA-256 <code data-manifest-sha256>{m().manifest.merged.sha256}</code>.
                  </p>
                  <button type="button" onClick={() => save(new Blob([m().jws], { type: 'application/jose' }), `pcapmesh-${job().id.slice(0, 8)}.jws`)}>
                    Save manifest (JWS)
                  </button>
                  <p>
                    Verify offline, with the key set from <code>/api/v1/jobs/manifest-key</code>:
                  </p>
                  <pre>
                    <code>{`curl ${location.origin}/api/v1/jobs/manifest-key > jwks.json\npcapmesh job verify pcapmesh-${job().id.slice(0, 8)}.jws ${m().manifest.merged.fileName} --key jwks.json`}</code>
                  </pre>
                  <details>
                    <summary>Manifest</summary>
                    <pre>{JSON.stringify(m().manifest, null, 2)}</pre>
                  </details>
                </section>
              )}
            </Show>

            <Show when={data.analysis()}>
              {(report) => (
                <section aria-labelledby="job-analysis">
                  <h2 id="job-analysis">Analysis</h2>
                  <JobAnalysis report={report()} timeZone={tz()} />
                </section>
              )}
            </Show>
            <Show when={data.analysis.error}>
              <p role="alert">Could not load the analysis: {(data.analysis.error as Error).message}</p>
            </Show>

            <Show when={job().result && !job().expired}>
              <section aria-labelledby="job-packets">
                <h2 id="job-packets">Packets</h2>
                <PacketView api={app.api} jobId={job().id} />
              </section>
            </Show>
          </>
        )}
      </Show>
    </section>
  );
}
