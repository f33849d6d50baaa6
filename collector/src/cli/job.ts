/**
 * `pcapmesh job submit|list|show|cancel|download|verify`: capture jobs over the collector's HTTP
 * API with an API token (job-client.ts says where the URL and the token come from).
 *
 * Exit status: 0 success; 1 failure (the server refused, the job failed or was cancelled while
 * waited for, a download did not verify, the evidence is not valid); 2 bad usage, or input the
 * server refused as invalid (a filter it cannot parse: the message names the position).
 */
import { basename } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { JOB_STATUSES } from '@pcapmesh/shared/wire';
import type { JobDetail, JobPage, JobPlan, JobView, TaskView } from '../domain/jobs/jobs.types.js';
import { UsageError } from './context.js';
import { call, connect, download, type Connection } from './job-client.js';
import { formatBytes, formatJob, formatJobList, formatPlan, printable, progressLine } from './job-format.js';
import { verifyCommand } from './job-verify.js';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // submit
  from: { type: 'string' },
  to: { type: 'string' },
  filter: { type: 'string' },
  host: { type: 'string', multiple: true },
  net: { type: 'string', multiple: true },
  src: { type: 'string', multiple: true },
  dst: { type: 'string', multiple: true },
  port: { type: 'string', multiple: true },
  protocol: { type: 'string' },
  vlan: { type: 'string' },
  sensors: { type: 'string' },
  locations: { type: 'string' },
  auto: { type: 'boolean' },
  name: { type: 'string' },
  'max-bytes': { type: 'string' },
  'max-packets': { type: 'string' },
  timeout: { type: 'string' },
  'dry-run': { type: 'boolean' },
  wait: { type: 'boolean' },
  output: { type: 'string', short: 'o' },
  // list
  status: { type: 'string' },
  owner: { type: 'string' },
  limit: { type: 'string' },
  // download
  task: { type: 'string' },
  // verify
  key: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** Options each subcommand takes besides --config, --url, --token-file, --json, --help. */
const ALLOWED: Record<string, (keyof typeof OPTIONS)[]> = {
  submit: [
    'from',
    'to',
    'filter',
    'host',
    'net',
    'src',
    'dst',
    'port',
    'protocol',
    'vlan',
    'sensors',
    'locations',
    'auto',
    'name',
    'max-bytes',
    'max-packets',
    'timeout',
    'dry-run',
    'wait',
    'output',
  ],
  list: ['status', 'owner', 'limit'],
  show: [],
  cancel: [],
  download: ['output', 'task'],
  verify: ['key'],
};
const COMMON = new Set(['config', 'url', 'token-file', 'json', 'help']);

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text);

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value)))
    throw new UsageError(`--${flag}: expected a positive whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

function vlanId(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) > 4095) throw new UsageError(`--vlan: expected a VLAN id 0..4095, got ${JSON.stringify(value)}`);
  return Number(value);
}

const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');

/** The POST /jobs body from the submit flags. */
export function submitRequest(v: Values): Record<string, unknown> {
  if (v.from === undefined || v.to === undefined)
    throw new UsageError('job submit needs --from TIME and --to TIME (ISO 8601 with a zone, or epoch milliseconds)');
  const structured = {
    ...(v.host || v.net ? { ip: [...(v.host ?? []), ...(v.net ?? [])] } : {}),
    ...(v.src ? { src: v.src } : {}),
    ...(v.dst ? { dst: v.dst } : {}),
    ...(v.port ? { ports: v.port.flatMap(list).map((p) => (/^\d+$/.test(p) ? Number(p) : p)) } : {}),
    ...(v.protocol !== undefined ? { protocol: v.protocol } : {}),
    ...(v.vlan !== undefined ? { vlan: vlanId(v.vlan) } : {}),
  };
  if (v.filter !== undefined && Object.keys(structured).length > 0)
    throw new UsageError('give --filter EXPR or the structured flags (--host, --net, --src, --dst, --port, --protocol, --vlan), not both');
  if (v.filter === undefined && Object.keys(structured).length === 0) {
    throw new UsageError("job submit needs a filter: --filter EXPR or --host/--net/--port/... (--filter '' takes every packet)");
  }
  const targets = [v.sensors !== undefined, v.locations !== undefined, v.auto === true].filter(Boolean).length;
  if (targets !== 1) throw new UsageError('job submit needs exactly one of --sensors a,b  --locations X,Y  --auto');
  const limits = {
    ...(v['max-bytes'] !== undefined ? { maxBytes: positiveInt(v['max-bytes'], 'max-bytes') } : {}),
    ...(v['max-packets'] !== undefined ? { maxPackets: positiveInt(v['max-packets'], 'max-packets') } : {}),
    ...(v.timeout !== undefined ? { timeoutSeconds: positiveInt(v.timeout, 'timeout') } : {}),
  };
  const time = (t: string) => (/^\d+$/.test(t) ? Number(t) : t);
  return {
    ...(v.name !== undefined ? { name: v.name } : {}),
    window: { from: time(v.from), to: time(v.to) },
    filter: v.filter !== undefined ? { expression: v.filter } : structured,
    targets: v.sensors !== undefined ? { sensors: list(v.sensors) } : v.locations !== undefined ? { locations: list(v.locations) } : { auto: true },
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(v['dry-run'] ? { dryRun: true } : {}),
  };
}

const FINAL = new Set(['complete', 'partial', 'failed', 'cancelled']);

/**
 * Milliseconds before the `n`th look at a waited-for job (n = 0, 1, …): 50 ms, doubling to at most
 * one second — a job that ends in a fraction of a second is seen within ~50–100 ms of its end,
 * a long one is asked once a second.
 */
export function pollDelayMs(n: number): number {
  return Math.min(1_000, 50 * 2 ** Math.min(n, 5));
}

/** Polls the job until it ends, showing progress on stderr; returns the final detail. */
async function waitFor(conn: Connection, id: string): Promise<JobDetail> {
  const tty = process.stderr.isTTY === true;
  let last = '';
  for (let n = 0; ; n++) {
    const job = await call<JobDetail>(conn, 'GET', `/jobs/${id}`);
    const line = progressLine(job, tty);
    if (tty) err(`\r${line}\u001b[K`);
    else if (line !== last) err(`${line}\n`);
    last = line;
    if (FINAL.has(job.status)) {
      if (tty) err('\n');
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, pollDelayMs(n)));
  }
}

/** Why tasks did not all deliver, one line per task. */
function reasons(tasks: TaskView[]): string {
  return tasks
    .filter((t) => t.status === 'failed' || t.status === 'skipped' || t.status === 'cancelled' || t.result?.truncated)
    .map((t) => `  ${t.sensor}: ${t.status}${t.reason ? ` — ${printable(t.reason)}` : ''}${t.result?.truncated ? ` (truncated: ${t.result.truncated})` : ''}\n`)
    .join('');
}

async function save(conn: Connection, job: JobDetail, taskId: string | undefined, output: string | undefined, json: boolean): Promise<void> {
  const task = taskId === undefined ? undefined : job.taskList.find((t) => t.id === taskId || t.sensor === taskId);
  if (taskId !== undefined && task === undefined) throw new UsageError(`job ${job.id} has no task or sensor ${JSON.stringify(taskId)}`);
  const sha256 = task ? (task.result?.sha256 ?? null) : (job.result?.sha256 ?? null);
  if (sha256 === null) throw new Error(`job ${job.id}${task ? ` task ${task.id}` : ''} has no result to download (status ${task?.status ?? job.status})`);
  const suggested = task ? `pcapmesh-${job.id}-${task.sensor}.pcap` : (job.result?.fileName ?? `pcapmesh-${job.id}.pcap`);
  const file = output ?? basename(suggested);
  const path = task ? `/jobs/${job.id}/tasks/${task.id}/pcap` : `/jobs/${job.id}/pcap`;
  const tty = process.stderr.isTTY === true;
  let shown = 0;
  const outcome = await download(conn, path, file, sha256, (received, total) => {
    if (!tty || Date.now() - shown < 200) return;
    shown = Date.now();
    err(`\rdownloading ${formatBytes(received)}${total ? ` of ${formatBytes(total)}` : ''}\u001b[K`);
  });
  if (tty) err('\r\u001b[K');
  if (json) out(`${JSON.stringify(outcome)}\n`);
  else
    out(
      `saved ${outcome.file}: ${formatBytes(outcome.bytes)}${outcome.resumedFrom > 0 ? ` (resumed at ${outcome.resumedFrom})` : ''}, sha256 ${outcome.sha256}\n`,
    );
}

async function submit(conn: Connection, v: Values): Promise<number> {
  const body = submitRequest(v);
  if (v['dry-run']) {
    const { plan } = await call<{ plan: JobPlan }>(conn, 'POST', '/jobs', body);
    out(v.json ? `${JSON.stringify({ plan })}\n` : formatPlan(plan));
    return 0;
  }
  const { job, plan } = await call<{ job: JobDetail; plan: JobPlan }>(conn, 'POST', '/jobs', body);
  if (!v.wait) {
    out(v.json ? `${JSON.stringify({ job, plan })}\n` : `submitted job ${job.id} (${job.status}, ${job.tasks.total} tasks)\n${formatPlan(plan)}`);
    return 0;
  }
  if (!v.json) out(`submitted job ${job.id}\n`);
  const final = await waitFor(conn, job.id);
  if (v.json) out(`${JSON.stringify(final)}\n`);
  else out(`job ${final.id} ${final.status}${final.reason ? `: ${printable(final.reason)}` : ''}\n${reasons(final.taskList)}`);
  if (final.status === 'failed' || final.status === 'cancelled') return 1;
  if (v.output !== undefined) await save(conn, final, undefined, v.output, false);
  return 0;
}

export function jobUsage(): string {
  return `pcapmesh job — capture jobs over the collector's HTTP API

  pcapmesh job submit --from T --to T (--filter EXPR | --host H --port P ...)
                      (--sensors a,b | --locations X | --auto) [--name N]
                      [--max-bytes N] [--max-packets N] [--timeout S]
                      [--dry-run] [--wait [-o result.pcap]] [--json]
  pcapmesh job list [--status S[,S]] [--owner U] [--limit N] [--json]
  pcapmesh job show ID [--json]
  pcapmesh job cancel ID
  pcapmesh job download ID [-o FILE] [--task TASK|SENSOR]
  pcapmesh job verify MANIFEST.jws RESULT.pcap [--key jwks.json]

Times: ISO 8601 with a zone (2026-01-02T03:04:05.123456789Z) or epoch milliseconds.
Structured filter flags: --host/--net ADDR|CIDR, --src, --dst, --port P|NAME|A-B (repeat or
comma-separate), --protocol tcp|udp|..., --vlan N. Statuses: ${JOB_STATUSES.join(', ')}.
Connection: --url URL (default PCAPMESH_URL, else the configuration's HTTP address) and
--token-file FILE (default PCAPMESH_TOKEN, else <dataDir>/api-token).
`;
}

/** Runs `pcapmesh job ARGS`; resolves to the exit status. */
export async function jobCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const { values: v, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (v.help || sub === undefined || sub === 'help') {
    out(jobUsage());
    return 0;
  }
  const allowed = ALLOWED[sub];
  if (allowed === undefined) throw new UsageError(`unknown job command ${JSON.stringify(sub)} (submit, list, show, cancel, download, verify)`);
  const stray = Object.keys(v).filter((k) => !COMMON.has(k) && !(allowed as string[]).includes(k));
  if (stray.length > 0) throw new UsageError(`job ${sub} does not take ${stray.map((k) => `--${k}`).join(', ')}`);
  const wantPositionals = sub === 'verify' ? 2 : sub === 'submit' || sub === 'list' ? 0 : 1;
  if (rest.length !== wantPositionals) {
    throw new UsageError(
      wantPositionals === 0
        ? `job ${sub} takes no arguments (got ${rest.join(' ')})`
        : `job ${sub} needs ${sub === 'verify' ? 'MANIFEST.jws RESULT.pcap' : 'a job ID'}`,
    );
  }
  if (sub === 'verify') return verifyCommand(rest[0]!, rest[1]!, { key: v.key, json: v.json === true, connection: { url: v.url, config: v.config } });
  if (sub === 'submit') submitRequest(v); // usage errors before looking for the token
  const conn = await connect({ url: v.url, tokenFile: v['token-file'], config: v.config });
  const id = rest[0] ?? '';
  const path = `/jobs/${encodeURIComponent(id)}`;
  switch (sub) {
    case 'submit':
      return submit(conn, v);
    case 'list': {
      const query = new URLSearchParams();
      if (v.status !== undefined) query.set('status', v.status);
      if (v.owner !== undefined) query.set('owner', v.owner);
      query.set('limit', String(positiveInt(v.limit, 'limit') ?? 50));
      const page = await call<JobPage>(conn, 'GET', `/jobs?${query}`);
      out(v.json ? `${JSON.stringify(page)}\n` : page.jobs.length === 0 ? 'no jobs\n' : formatJobList(page.jobs));
      return 0;
    }
    case 'show': {
      const job = await call<JobDetail>(conn, 'GET', path);
      out(v.json ? `${JSON.stringify(job)}\n` : formatJob(job));
      return 0;
    }
    case 'cancel': {
      const job = await call<JobView>(conn, 'POST', `${path}/cancel`);
      out(v.json ? `${JSON.stringify(job)}\n` : `job ${job.id} ${job.status}\n`);
      return 0;
    }
    case 'download':
      await save(conn, await call<JobDetail>(conn, 'GET', path), v.task, v.output, v.json === true);
      return 0;
    default:
      throw new UsageError(`unknown job command ${JSON.stringify(sub)}`);
  }
}
