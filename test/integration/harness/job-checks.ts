/**
 * Checks the job tests share: the merged download against the reference tools' result, and what an
 * agent keeps on disk for its tasks (`{stateDir}/tasks/`: `{task}.json` records holding the command,
 * upload token included, and the task's result or extract parts while they exist).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskCommand } from '@pcapmesh/shared/wire';
import type { Agent } from './agent.js';
import { firstDifference, readPackets, type Reference } from './job-fixtures.js';
import type { JobDetail, JobsClient } from './jobs-api.js';

/** The agent's task directory. */
export function agentTaskDir(agent: Agent): string {
  return join(agent.stateDir, 'tasks');
}

/** Every task record the agent holds on disk (`{task}.json`), with its command and status. */
export function agentTaskRecords(agent: Agent): { command: TaskCommand; status: string }[] {
  const dir = agentTaskDir(agent);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as { command: TaskCommand; status: string });
}

/** Files in the agent's task directory other than task records: results, extract parts, temporaries. */
export function agentTaskLeftovers(agent: Agent): string[] {
  const dir = agentTaskDir(agent);
  return existsSync(dir) ? readdirSync(dir).filter((n) => !n.endsWith('.json')) : [];
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Downloads the job's merged capture and compares it with the reference packet for packet (time to
 * the nanosecond, original length, captured bytes); checks the job's own figures (packets,
 * duplicates removed, SHA-256 = ETag) against the download. Returns the downloaded bytes.
 */
export async function expectMergedEqualsReference(jobs: JobsClient, job: JobDetail, reference: Reference, workDir: string): Promise<Buffer> {
  assert.ok(job.result, `job ${job.id} has no result: ${JSON.stringify(job).slice(0, 1000)}`);
  const answer = await jobs.download(job.id);
  assert.equal(answer.status, 200, `download: ${answer.text().slice(0, 300)}`);
  const bytes = answer.body;
  const path = join(workDir, `download-${job.id}.pcap`);
  writeFileSync(path, bytes);
  const difference = firstDifference(readPackets(path), reference.packets);
  assert.equal(difference, null, `merged capture vs tcpdump + mergecap + editcap: ${difference}`);
  assert.equal(sha256(bytes), job.result.sha256, "SHA-256 of the download = the job result's");
  assert.equal(answer.headers.get('etag'), `"${job.result.sha256}"`, 'ETag is the SHA-256');
  assert.equal(bytes.length, job.result.fileBytes, 'fileBytes');
  assert.equal(job.result.packets, reference.packets.length, 'result packets = reference packets');
  assert.equal(job.result.duplicatesRemoved, reference.duplicates, 'duplicates removed = what editcap -w 0.001 removed');
  return bytes;
}
