/**
 * Issue #10, end to end: three real agents (different locations) whose capture directories overlap
 * as taps on shared links do, one real collector, a job submitted through the API. The merged
 * download must equal, packet for packet, what the reference tools make of the same files
 * (tcpdump with the filter over every file, mergecap, editcap -A/-B for the window [from, to),
 * editcap -w 0.001 for duplicates: harness/job-fixtures.ts), including the duplicates the overlap
 * creates; a Range request returns exactly that slice. On the same world: the dry run answers with
 * coverage and estimates within 3 s and creates nothing; an invalid filter is refused (400) naming
 * its position and creates nothing; a viewer cannot submit (403); a task token used on another
 * task is refused (403) and reaches nothing but uploads; a chunk whose SHA-256 is wrong is refused
 * (400) and nothing of it is kept. Runs on PGlite (job submitted through the API) and on PostgreSQL
 * (through `pcapmesh job submit --wait -o`, whose saved file must be the same capture, and whose
 * signed evidence manifest `pcapmesh job verify` accepts — and refuses for a changed file).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, integrationTest, prepareBackend, requireTool } from './harness.js';
import { agentTaskRecords, expectMergedEqualsReference, sha256 } from './harness/job-checks.js';
import { FIXTURE_START, buildOverlappingSensors, referenceExtract } from './harness/job-fixtures.js';
import type { JobBody, JobsClient } from './harness/jobs-api.js';
import { JobWorld } from './harness/job-world.js';

const FILTER = 'tcp port 443 or udp port 53';
/** [10:01:00.5, 10:08:00): a fractional start, to check the window to the nanosecond. */
const WINDOW = { from: { sec: FIXTURE_START + 60, nsec: 500_000_000 }, to: { sec: FIXTURE_START + 480, nsec: 0 } };
const iso = (t: { sec: number; nsec: number }): string => new Date(t.sec * 1000).toISOString().replace('.000Z', `.${String(t.nsec).padStart(9, '0')}Z`);

const SUBMIT: JobBody = {
  name: 'overlap e2e',
  window: { from: iso(WINDOW.from), to: iso(WINDOW.to) },
  filter: { expression: FILTER },
  targets: { auto: true },
};

/** How many jobs the admin sees (to prove a refusal created nothing). */
const jobCount = async (jobs: JobsClient): Promise<number> => (await jobs.list()).length;

for (const backendName of BACKENDS) {
  integrationTest(`jobs: three overlapping sensors, merged result = tcpdump + mergecap + editcap; Range; dry run; refusals [${backendName}]`, async (scope) => {
    for (const tool of ['tcpdump', 'mergecap', 'editcap']) if (!requireTool(scope.t, tool)) return;
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;
    const sensors = buildOverlappingSensors(join(scope.dir, 'captures'));
    const reference = referenceExtract(sensors, FILTER, WINDOW, scope.dir);
    assert.ok(reference.duplicates > 500, `precondition: the overlap makes ${reference.duplicates} duplicates`);
    const world = await JobWorld.start(scope, { backend, sensors });
    const { jobs } = world;

    // Dry run: coverage and estimates for every sensor; nothing created. Its latency is reported,
    // not asserted (bench/ measures it).
    const started = Date.now();
    const { plan } = await jobs.dryRun(SUBMIT);
    const dryRunMs = Date.now() - started;
    scope.t.diagnostic(`dry run answered in ${dryRunMs} ms`);
    assert.deepEqual(plan.sensors.map((s) => s.sensor).sort(), sensors.map((s) => s.name).sort());
    for (const entry of plan.sensors) {
      assert.ok(entry.included, `${entry.sensor} included: ${JSON.stringify(entry)}`);
      assert.equal(entry.coverage.fraction, 1, `${entry.sensor}: its files cover the window: ${JSON.stringify(entry.coverage)}`);
      assert.ok(entry.bytesInWindow > 0, `${entry.sensor} bytesInWindow`);
      assert.ok(entry.estimate !== null && entry.estimate.files > 0, `${entry.sensor} answered its estimate: ${JSON.stringify(entry)}`);
    }
    assert.equal(plan.filter, FILTER);
    assert.equal(await jobCount(jobs), 0, 'a dry run creates no job');

    // Refusals that must create nothing.
    const bad = await jobs.request('POST', '/jobs', { body: { ...SUBMIT, filter: { expression: 'host 10.1.1.10 and and tcp' } } });
    assert.equal(bad.status, 400, bad.text());
    assert.match(bad.json<{ error: { message: string } }>().error.message, /filter: at 19\b/, 'the message names the position of the error');
    const viewer = await world.userClient('vera', 'viewer');
    const denied = await viewer.request('POST', '/jobs', { body: SUBMIT });
    assert.equal(denied.status, 403, denied.text());
    assert.equal(await jobCount(jobs), 0, 'refused submissions create nothing');

    // The job: through the API on PGlite, through `pcapmesh job submit --wait -o` on PostgreSQL.
    let jobId: string;
    const tokenFile = join(scope.dir, 'api-token');
    writeFileSync(tokenFile, world.collector.apiToken);
    const cliResult = join(scope.dir, 'cli-result.pcap');
    if (backendName === 'pglite') {
      const { job } = await jobs.submit(SUBMIT);
      assert.equal(job.taskList.length, 3);
      jobId = job.id;
    } else {
      const { exit, output } = await world.collector.cli([
        'job',
        'submit',
        '--from',
        SUBMIT.window.from as string,
        '--to',
        SUBMIT.window.to as string,
        '--filter',
        FILTER,
        '--auto',
        '--name',
        'overlap e2e (cli)',
        '--wait',
        '-o',
        cliResult,
        '--token-file',
        tokenFile,
      ]);
      assert.equal(exit.code, 0, `pcapmesh job submit --wait:\n${output}`);
      jobId = /submitted job ([0-9a-f-]{36})/.exec(output)?.[1] ?? assert.fail(`no job id in the CLI output:\n${output}`);
      assert.match(output, /complete/);
    }
    const done = await jobs.waitFor(jobId, ['complete'], 120_000);
    assert.equal(done.tasks.done, 3, JSON.stringify(done.tasks));
    const bytes = await expectMergedEqualsReference(jobs, done, reference, scope.dir);
    if (backendName === 'postgres') {
      assert.ok(readFileSync(cliResult).equals(bytes), 'the CLI saved the same merged capture');
      // The signed evidence manifest checks out offline against the saved file; a changed file does not.
      const manifest = await jobs.request('GET', `/jobs/${jobId}/manifest?format=jws`);
      assert.equal(manifest.status, 200, manifest.text());
      const jws = join(scope.dir, 'manifest.jws');
      writeFileSync(jws, manifest.body);
      const verified = await world.collector.cli(['job', 'verify', jws, cliResult, '--token-file', tokenFile]);
      assert.equal(verified.exit.code, 0, `pcapmesh job verify:\n${verified.output}`);
      const tampered = join(scope.dir, 'tampered.pcap');
      const changed = Buffer.from(bytes);
      changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 0xff, changed.length - 1);
      writeFileSync(tampered, changed);
      const refused = await world.collector.cli(['job', 'verify', jws, tampered, '--token-file', tokenFile]);
      assert.notEqual(refused.exit.code, 0, `a changed file must not verify:\n${refused.output}`);
    }
    const job = { id: jobId };

    // A Range request returns that slice (and says so).
    const ranged = await jobs.download(job.id, { headers: { range: 'bytes=1000-4999' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 1000-4999/${bytes.length}`);
    assert.ok(ranged.body.equals(bytes.subarray(1000, 5000)), 'the range holds exactly those bytes');
    const tail = await jobs.download(job.id, { headers: { range: `bytes=${bytes.length - 100}-` } });
    assert.equal(tail.status, 206);
    assert.ok(tail.body.equals(bytes.subarray(bytes.length - 100)));

    // Each sensor's own result is downloadable and is what its result states.
    for (const task of done.taskList) {
      const own = await jobs.download(job.id, { task: task.id });
      assert.equal(own.status, 200, own.text().slice(0, 200));
      assert.equal(sha256(own.body), task.result?.sha256, `${task.sensor}'s result SHA-256`);
    }

    // Task tokens, on an open task (a window still to come keeps the tasks waiting).
    const now = Math.floor(Date.now() / 1000);
    const { job: open } = await jobs.submit({
      ...SUBMIT,
      name: 'future',
      window: { from: (now - 60) * 1000, to: (now + 3600) * 1000 },
      targets: { sensors: ['tap-a', 'tap-b'] },
    });
    const commandOf = async (sensor: string) => {
      for (let i = 0; i < 300; i++) {
        const record = agentTaskRecords(world.agent(sensor)).find((r) => r.command.jobId === open.id);
        if (record) return record.command;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`agent ${sensor} never recorded its task of job ${open.id}`);
    };
    const a = await commandOf('tap-a');
    const b = await commandOf('tap-b');
    const asA = jobs.as(a.upload.token);
    assert.equal((await asA.request('GET', `/tasks/${a.taskId}/upload`)).status, 200, 'the token works for its own task');
    const foreign = await asA.request('GET', `/tasks/${b.taskId}/upload`);
    assert.equal(foreign.status, 403, `tap-a's token on tap-b's task: ${foreign.text()}`);
    const foreignPut = await asA.request('POST', `/tasks/${b.taskId}/upload`, { body: { size: 10, sha256: sha256(Buffer.alloc(10)), packets: 0, bytes: 0 } });
    assert.equal(foreignPut.status, 403, foreignPut.text());
    const elsewhere = await asA.request('GET', '/jobs');
    assert.ok(elsewhere.status === 401 || elsewhere.status === 403, `a task token reaches nothing but uploads: GET /jobs → ${elsewhere.status}`);

    // A chunk whose SHA-256 is wrong: 400, nothing kept.
    const content = Buffer.from('not really a capture, but bytes to upload');
    const declared = await asA.request('POST', `/tasks/${a.taskId}/upload`, { body: { size: content.length, sha256: sha256(content), packets: 1, bytes: 10 } });
    assert.equal(declared.status, 200, declared.text());
    const wrong = await asA.request('PUT', `/tasks/${a.taskId}/upload`, {
      raw: content,
      headers: {
        'content-range': `bytes 0-${content.length - 1}/${content.length}`,
        'x-chunk-sha256': sha256(Buffer.from('something else')),
        'content-type': 'application/octet-stream',
      },
    });
    assert.equal(wrong.status, 400, wrong.text());
    const after = await asA.request('GET', `/tasks/${a.taskId}/upload`);
    assert.equal(after.json<{ received: number }>().received, 0, 'nothing of the refused chunk is kept');
    await jobs.cancel(open.id);
    await jobs.waitFor(open.id, ['cancelled'], 30_000);
    await world.collector.stop();
  });
}
