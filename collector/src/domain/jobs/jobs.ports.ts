/**
 * What the jobs domain needs from the rest of the collector, as small interfaces: the transport
 * implements CommandSender (broker/commands.ts), J1b's ResultsService implements JobResults,
 * TaskTokens implements TaskTokenIssuer. The domain imports none of their modules' internals.
 */
import type { Body, Command } from '@pcapmesh/shared/wire';
import type { JobStatus, ResultFile } from './jobs.types.js';

/** The message body each command topic carries (the sender adds the envelope). */
export interface CommandBodies {
  tasks: Body<'task'>;
  cancel: Body<'cancel'>;
  estimate: Body<'estimate-command'>;
}

/**
 * Publishes a command to one sensor on `commands/{sensor}/{command}` (CBOR, QoS 1, not retained).
 * Rejects when the broker refuses or is gone; the caller decides what that means for the task.
 */
export interface CommandSender {
  send<C extends Command>(sensor: string, command: C, body: CommandBodies[C]): Promise<void>;
}

/** Issues the bearer token an agent uploads a task's result with (TaskTokens). */
export interface TaskTokenIssuer {
  issue(subject: { taskId: string; jobId: string; sensor: string }, expiresAt: Date): Promise<string>;
}

/** What a merge produced (also stored on the job row by the merge). */
export interface MergeOutcome {
  packets: number;
  bytes: number;
  fileBytes: number;
  sha256: string;
  duplicatesRemoved: number;
}

/**
 * The results directory (ResultsService): the files tasks uploaded, the merged capture, the merge
 * itself (which also writes the analysis, the signed manifest and result_* onto the job row),
 * removal and the expiry sweep.
 */
export interface JobResults {
  taskResultFile(jobId: string, taskId: string): ResultFile | null | Promise<ResultFile | null>;
  mergedFile(jobId: string): ResultFile | null | Promise<ResultFile | null>;
  /** `holder`: the job's merge lease holder; the result is stored only while it holds the lease. */
  merge(jobId: string, finalStatus: JobStatus, holder?: string): Promise<MergeOutcome>;
  removeJobFiles(jobId: string): void | Promise<void>;
  sweepExpired(now: Date): Promise<unknown>;
}

/**
 * The subnet map (NetworkService.locate), which narrows `targets: { auto: true }`: for each network
 * (CIDR text), the location of the most specific mapped subnet that contains it — a pin, else a
 * learned location — or null when that subnet is external or ambiguous, or no subnet contains it.
 */
export interface SubnetLocator {
  locate(nets: readonly string[]): Promise<Map<string, string | null>>;
}
