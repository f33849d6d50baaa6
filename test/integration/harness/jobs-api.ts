/**
 * A client of the collector's job API for tests (docs/jobs.md, collector/src/http/routes/jobs.ts):
 * any method and body, answers kept whole (status, headers, body) so a test can assert refusals as
 * precisely as successes, plus the waits a job test needs.
 */
import { writeFileSync } from 'node:fs';
import type { JobDetail, JobPlan, JobStatus, TaskView } from '../../../collector/src/domain/jobs/jobs.types.js';
import { eventually } from './wait.js';

export type { JobDetail, JobPlan, JobStatus, TaskView };

export interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The body as JSON (throws naming the status and body when it is not JSON). */
  json<T = unknown>(): T;
  text(): string;
}

/** A request that did not get the status it expected: the whole answer in the message. */
export class UnexpectedAnswer extends Error {
  constructor(
    readonly answer: Answer,
    what: string,
  ) {
    super(`${what} → ${answer.status}: ${answer.body.toString('utf8').slice(0, 600)}`);
  }
}

/** The job request body of POST /jobs (times as ISO strings or epoch ms). */
export interface JobBody {
  name?: string;
  window: { from: string | number; to: string | number };
  filter: Record<string, unknown>;
  targets: { sensors: string[] } | { locations: string[] } | { auto: true };
  limits?: { maxBytes?: number; maxPackets?: number; timeoutSeconds?: number };
  dryRun?: boolean;
}

const FINAL: readonly JobStatus[] = ['complete', 'partial', 'failed', 'cancelled'];

export class JobsClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** The same client under another bearer token (a viewer's, a task token…). */
  as(token: string): JobsClient {
    return new JobsClient(this.baseUrl, token);
  }

  async request(
    method: string,
    path: string,
    opts: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number; raw?: Buffer } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...opts.headers };
    let payload: Buffer | string | undefined;
    if (opts.raw !== undefined) payload = opts.raw;
    else if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.baseUrl}/api/v1${path}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: payload } : {}),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const body = Buffer.from(await res.arrayBuffer());
    return {
      status: res.status,
      headers: res.headers,
      body,
      text: () => body.toString('utf8'),
      json: <T>() => {
        try {
          return JSON.parse(body.toString('utf8')) as T;
        } catch {
          throw new Error(`${method} ${path} → ${res.status}: not JSON: ${body.toString('utf8').slice(0, 300)}`);
        }
      },
    };
  }

  /** Requests and expects `status`; returns the parsed JSON body. */
  async expect<T>(status: number, method: string, path: string, body?: unknown): Promise<T> {
    const answer = await this.request(method, path, body === undefined ? {} : { body });
    if (answer.status !== status) throw new UnexpectedAnswer(answer, `${method} ${path} (expected ${status})`);
    return status === 204 ? (undefined as T) : answer.json<T>();
  }

  submit(body: JobBody): Promise<{ job: JobDetail; plan: JobPlan }> {
    return this.expect(201, 'POST', '/jobs', body);
  }

  dryRun(body: JobBody): Promise<{ plan: JobPlan }> {
    return this.expect(200, 'POST', '/jobs', { ...body, dryRun: true });
  }

  get(id: string): Promise<JobDetail> {
    return this.expect(200, 'GET', `/jobs/${id}`);
  }

  cancel(id: string): Promise<unknown> {
    return this.expect(200, 'POST', `/jobs/${id}/cancel`);
  }

  /** Jobs visible to this client (first page, up to 200). */
  async list(): Promise<{ id: string; status: JobStatus }[]> {
    return (await this.expect<{ jobs: { id: string; status: JobStatus }[] }>(200, 'GET', '/jobs?limit=200')).jobs;
  }

  /** Waits until the job reaches one of `statuses`; fails early (with the tasks) if it ends in another final state. */
  waitFor(id: string, statuses: readonly JobStatus[], timeoutMs: number): Promise<JobDetail> {
    let last: JobDetail | undefined;
    return eventually(
      async () => {
        const job = await this.get(id);
        last = job;
        if (statuses.includes(job.status)) return job;
        if (FINAL.includes(job.status)) {
          throw new FinalState(`job ${id} ended ${job.status} (${job.reason ?? 'no reason'}), expected ${statuses.join('|')}; tasks: ${describeTasks(job)}`);
        }
        throw new Error(`status ${job.status}; tasks: ${describeTasks(job)}`);
      },
      { what: `job ${id} ${statuses.join('|')}`, timeoutMs, intervalMs: 100, stopOn: (err) => err instanceof FinalState },
    ).catch((err: unknown) => {
      if (err instanceof Error && last) err.message += `\nlast job view: ${JSON.stringify(last).slice(0, 3000)}`;
      throw err;
    });
  }

  /** GET /jobs/{id}/pcap (optionally one task's), with extra headers such as Range. */
  download(id: string, opts: { task?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const path = opts.task === undefined ? `/jobs/${id}/pcap` : `/jobs/${id}/tasks/${opts.task}/pcap`;
    return this.request('GET', path, { ...(opts.headers ? { headers: opts.headers } : {}), timeoutMs: 120_000 });
  }

  /** Downloads the merged capture to `path` (expects 200); returns its bytes. */
  async downloadTo(id: string, path: string): Promise<Buffer> {
    const answer = await this.download(id);
    if (answer.status !== 200) throw new UnexpectedAnswer(answer, `GET /jobs/${id}/pcap`);
    writeFileSync(path, answer.body);
    return answer.body;
  }
}

class FinalState extends Error {}

/** "tap-a done (…), tap-b scanning 3/10" for messages. */
export function describeTasks(job: JobDetail): string {
  return (job.taskList ?? []).map((t) => `${t.sensor} ${t.status}${t.reason ? ` (${t.reason})` : ''} attempt ${t.attempt}`).join('; ');
}

/** Signs a user in (POST /login) and returns the access token. */
export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`login ${username} → ${res.status}: ${text}`);
  return (JSON.parse(text) as { accessToken: string }).accessToken;
}
