import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobDetail, JobView } from '../domain/jobs/jobs.types.js';
import { formatBytes, formatJob, formatJobList, formatTasks, printable, progressLine, table } from './job-format.js';
import { submitRequest } from './job.js';

const view = (over: Partial<JobView> = {}): JobView =>
  ({
    status: 'running',
    tasks: { total: 4, pending: 0, running: 2, done: 1, failed: 1, cancelled: 0, skipped: 0 },
    packets: 1234,
    bytes: 5 * 1024 * 1024,
    ...over,
  }) as JobView;

test('progress: a bar of ended tasks on a TTY, a plain line otherwise', () => {
  assert.equal(progressLine(view(), true, 8), 'running   [####----] 2/4 tasks  1234 packets  5.0 MiB');
  assert.equal(progressLine(view(), false), 'running: 2/4 tasks  1234 packets  5.0 MiB');
  assert.equal(
    progressLine(view({ status: 'complete', tasks: { total: 0, pending: 0, running: 0, done: 0, failed: 0, cancelled: 0, skipped: 0 } }), true, 4),
    'complete  [####] 0/0 tasks  1234 packets  5.0 MiB',
  );
});

test('sizes and tables', () => {
  assert.deepEqual([0, 1023, 1536, 3 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.5 KiB', '3.0 GiB']);
  assert.equal(
    table(
      ['A', 'LONG'],
      [
        ['xyz', '1'],
        ['q', ''],
      ],
    ),
    'A    LONG\nxyz  1\nq\n',
  );
});

test('submit flags become the POST /jobs body; mistakes are named', () => {
  const base = { from: '2026-03-01T10:00:00Z', to: '1772359500000' };
  assert.deepEqual(
    submitRequest({
      ...base,
      host: ['10.0.0.1'],
      net: ['10.1.0.0/16'],
      port: ['443,https', '8000-8080'],
      protocol: 'tcp',
      sensors: 'a, b',
      'max-bytes': '5000',
      'dry-run': true,
    }),
    {
      window: { from: '2026-03-01T10:00:00Z', to: 1772359500000 },
      filter: { ip: ['10.0.0.1', '10.1.0.0/16'], ports: [443, 'https', '8000-8080'], protocol: 'tcp' },
      targets: { sensors: ['a', 'b'] },
      limits: { maxBytes: 5000 },
      dryRun: true,
    },
  );
  assert.deepEqual(submitRequest({ ...base, filter: '', auto: true, name: 'all' }), {
    name: 'all',
    window: { from: base.from, to: 1772359500000 },
    filter: { expression: '' },
    targets: { auto: true },
  });
  assert.throws(() => submitRequest({ ...base, filter: 'tcp', host: ['10.0.0.1'], auto: true }), /--filter EXPR or the structured flags/);
  assert.throws(() => submitRequest({ ...base, auto: true }), /needs a filter/);
  assert.throws(() => submitRequest({ ...base, filter: 'tcp', auto: true, locations: 'lab' }), /exactly one of --sensors/);
  assert.throws(() => submitRequest({ ...base, filter: 'tcp', auto: true, 'max-bytes': '1e6' }), /--max-bytes: expected a positive whole number, got "1e6"/);
  assert.throws(() => submitRequest({ from: base.from, filter: 'tcp', auto: true }), /needs --from TIME and --to TIME/);
  assert.throws(() => submitRequest({ ...base, vlan: '5000', auto: true }), /--vlan: expected a VLAN id 0..4095, got "5000"/);
});

test("text others wrote (a job name, an agent's failure reason) reaches the terminal without its control characters", () => {
  const evil = 'x\u001b]0;owned\u0007\u001b[2J\r\u009bz';
  const job = {
    ...view({ status: 'partial', name: evil, reason: `edge-1 failed: ${evil}` }),
    id: 'j1',
    owner: 'alice',
    window: { from: 'a', to: 'b' },
    expression: 'tcp',
    createdAt: 'c',
    finishedAt: 'd',
    deadlineAt: 'e',
    result: null,
    expired: false,
    taskList: [{ id: 't1', sensor: 'edge-1', status: 'failed', result: null, progress: null, reason: evil, waitUntil: null }],
  } as unknown as JobDetail;
  for (const text of [formatJob(job), formatJobList([job]), formatTasks(job.taskList)]) {
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, JSON.stringify(text));
    assert.match(text, /x\\x1b\]0;owned\\x07\\x1b\[2J\\x0d\\x9bz/);
  }
  assert.equal(printable('plain — ünïcode ok'), 'plain — ünïcode ok');
});
