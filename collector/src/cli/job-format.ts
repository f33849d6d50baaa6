/**
 * How `pcapmesh job …` shows plans, jobs and tasks to people: aligned tables, byte sizes, and the
 * progress of a job being waited for (a bar redrawn in place on a TTY, plain lines otherwise).
 */
import type { JobDetail, JobPlan, JobView, TaskView } from '../domain/jobs/jobs.types.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** Columns padded to their widest cell, two spaces apart. */
export function table(header: string[], rawRows: string[][]): string {
  const rows = rawRows.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/**
 * `text` with its control characters (C0, DEL, C1) written as `\xNN`: job names, reasons from agents
 * and other text others wrote must not move the cursor, retitle or clear the terminal it is shown on.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const dash = (v: string | null | undefined) => (v === null || v === undefined || v === '' ? '-' : v);

export function formatPlan(plan: JobPlan): string {
  const head =
    `window   ${plan.window.from} … ${plan.window.to}${plan.scheduled ? '  (scheduled: the sensors wait for the window to close)' : ''}\n` +
    `filter   ${plan.filter === '' ? '(everything)' : printable(plan.filter)}\n` +
    `limits   ${formatBytes(plan.limits.maxBytes)} or ${plan.limits.maxPackets} packets per sensor; timeout ${plan.limits.timeoutSeconds} s\n\n`;
  const rows = plan.sensors.map((s) => [
    s.sensor,
    dash(s.location),
    s.status,
    `${Math.round(s.coverage.fraction * 100)}%${s.coverage.gaps.length > 0 ? ` (${s.coverage.gaps.length} gaps)` : ''}`,
    formatBytes(s.bytesInWindow),
    s.estimate === null
      ? '-'
      : `${s.estimate.files} files (${s.estimate.indexedFiles} indexed), read ${formatBytes(s.estimate.bytesToRead)}` +
        (s.estimate.matchUpperBound ? `, ≤ ${s.estimate.matchUpperBound.packets} packets` : ''),
    s.included ? 'yes' : 'no',
    dash(s.note),
  ]);
  return head + table(['SENSOR', 'LOCATION', 'STATUS', 'COVERAGE', 'IN WINDOW', 'ESTIMATE', 'TASK', 'NOTE'], rows);
}

const ended = (job: JobView) => job.tasks.done + job.tasks.failed + job.tasks.cancelled + job.tasks.skipped;

export function formatJobList(jobs: JobView[]): string {
  const rows = jobs.map((j) => [j.id, j.status, j.owner, j.createdAt, `${ended(j)}/${j.tasks.total}`, String(j.packets), formatBytes(j.bytes), dash(j.name)]);
  return table(['ID', 'STATUS', 'OWNER', 'CREATED', 'TASKS', 'PACKETS', 'BYTES', 'NAME'], rows);
}

function taskProgress(t: TaskView): string {
  const p = t.progress;
  if (t.status === 'waiting' && t.waitUntil) return `waits until ${t.waitUntil}`;
  if (p === null) return '-';
  if (t.status === 'uploading' && p.uploadTotal) return `upload ${Math.floor(((p.uploaded ?? 0) / p.uploadTotal) * 100)}%`;
  if (p.bytesTotal) return `read ${Math.floor(((p.bytesScanned ?? 0) / p.bytesTotal) * 100)}%`;
  return `${p.filesScanned}/${p.filesTotal} files`;
}

export function formatTasks(tasks: TaskView[]): string {
  const rows = tasks.map((t) => [
    t.id,
    t.sensor,
    t.status,
    String(t.result?.packets ?? t.progress?.packets ?? 0),
    formatBytes(t.result?.bytes ?? t.progress?.bytes ?? 0),
    taskProgress(t),
    t.result?.truncated ? `truncated (${t.result.truncated})` : dash(t.reason),
  ]);
  return table(['TASK', 'SENSOR', 'STATUS', 'PACKETS', 'BYTES', 'PROGRESS', 'REASON'], rows);
}

export function formatJob(job: JobDetail): string {
  const t = job.tasks;
  const lines = [
    `job       ${job.id}${job.name ? `  (${job.name})` : ''}`,
    `status    ${job.status}${job.reason ? `: ${job.reason}` : ''}`,
    `owner     ${job.owner}`,
    `window    ${job.window.from} … ${job.window.to}`,
    `filter    ${job.expression === '' ? '(everything)' : job.expression}`,
    `created   ${job.createdAt}${job.finishedAt ? `   finished ${job.finishedAt}` : `   deadline ${job.deadlineAt}`}`,
    `tasks     ${t.done} done, ${t.running} running, ${t.pending} pending, ${t.failed} failed, ${t.cancelled} cancelled, ${t.skipped} skipped (of ${t.total})`,
    `matched   ${job.packets} packets, ${formatBytes(job.bytes)}`,
  ];
  if (job.result) {
    lines.push(
      `result    ${job.result.fileName}  ${formatBytes(job.result.fileBytes)}  ${job.result.packets} packets, ${job.result.duplicatesRemoved} duplicates removed`,
      `sha256    ${job.result.sha256}`,
    );
  }
  if (job.expired) lines.push('expired   the result files were deleted (results.expiryDays)');
  return `${lines.map(printable).join('\n')}\n\n${formatTasks(job.taskList)}`;
}

/** One progress report of a job being waited for: a bar for a TTY, or a plain line. */
export function progressLine(job: JobView, tty: boolean, width = 24): string {
  const done = ended(job);
  const counts = `${done}/${job.tasks.total} tasks  ${job.packets} packets  ${formatBytes(job.bytes)}`;
  if (!tty) return `${job.status}: ${counts}`;
  const filled = job.tasks.total === 0 ? width : Math.round((done / job.tasks.total) * width);
  return `${job.status.padEnd(9)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${counts}`;
}
