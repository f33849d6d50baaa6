/**
 * The agent's durable memory of tasks: one JSON file per task, `{dir}/{taskId}.json`, beside the
 * task's result file `{dir}/{taskId}.pcap` while it exists.
 *
 * Contract:
 * - `save` is atomic: the record is written to `{taskId}.json.tmp` and renamed over the old file,
 *   so after the agent process dies (kill -9, a crash) the file holds either the previous or the
 *   new record, never a mix. It is NOT fsynced (a save is on every task's critical path, and an
 *   fsync behind other writers' data can take tens of milliseconds): after an OS crash or power loss
 *   a record may be older than the last save, missing, or damaged (then `load` sets it aside). The
 *   task protocol recovers from each: the collector re-sends unfinished tasks when the agent is
 *   born again, a task without a finished extract (or whose result file is not there whole)
 *   extracts again, an upload declares again and goes on from the collector's `received`, and the
 *   collector ignores a status older than what it recorded.
 * - `load` returns every readable record; a file that is not a valid record (a hand edit, a
 *   version from the future) is renamed `{taskId}.json.bad` and reported, never fatal.
 * - The files hold the upload token of unfinished tasks: they are created mode 0600.
 * - Task ids come from MQTT commands: only plain names (`isTaskId`) get files; any other id
 *   (`../x`, `a/b`) is refused with an error instead of naming a path outside the directory.
 */
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TASK_STATES, taskCommandSchema, taskResultSchema, timestampSchema } from '@pcapmesh/shared/wire';

const progressSchema = z.object({
  filesScanned: z.number().int().nonnegative(),
  filesTotal: z.number().int().nonnegative(),
  packets: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  bytesScanned: z.number().int().nonnegative().optional(),
  bytesTotal: z.number().int().nonnegative().optional(),
  uploaded: z.number().int().nonnegative().optional(),
  uploadTotal: z.number().int().nonnegative().optional(),
});

export const taskRecordSchema = z.object({
  /** The command as received (envelope included): everything needed to run the task again. */
  command: taskCommandSchema,
  status: z.enum(TASK_STATES),
  waitUntil: timestampSchema.optional(),
  progress: progressSchema.optional(),
  /** Set once the extract finished: the result file's counts, size and SHA-256. */
  result: taskResultSchema.optional(),
  error: z.string().optional(),
  transient: z.boolean().optional(),
  /** Epoch ms of the last change (pruning and logs). */
  updatedAt: z.number().int().nonnegative(),
});

export type TaskRecord = z.infer<typeof taskRecordSchema>;
export type TaskProgress = z.infer<typeof progressSchema>;

/** States after which nothing more happens to a task (until a higher attempt arrives). */
export const ENDED_STATES: ReadonlySet<TaskRecord['status']> = new Set(['done', 'failed', 'cancelled', 'skipped']);

/** Task ids the agent keeps files for: a plain name (the collector sends UUIDs), never a path. */
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** True when `id` can name a task's files (no `/`, no leading dot, at most 64 characters). */
export function isTaskId(id: string): boolean {
  return TASK_ID.test(id);
}

function checked(taskId: string): string {
  if (!isTaskId(taskId)) throw new Error(`not a task id: ${JSON.stringify(taskId.slice(0, 80))}`);
  return taskId;
}

export class TaskStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** `{dir}/{taskId}.json`; throws for an id that is not a plain name (it could name a path outside `dir`). */
  recordPath(taskId: string): string {
    return join(this.dir, `${checked(taskId)}.json`);
  }

  /** Where the task's extract writes its result; throws like recordPath. */
  resultPath(taskId: string): string {
    return join(this.dir, `${checked(taskId)}.pcap`);
  }

  save(record: TaskRecord): void {
    const path = this.recordPath(record.command.taskId);
    const temp = `${path}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      const bytes = Buffer.from(JSON.stringify(record));
      for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  }

  /** Every valid record; bad files are set aside (see the module comment) and listed in `bad`. */
  load(): { records: TaskRecord[]; bad: { file: string; reason: string }[] } {
    const records: TaskRecord[] = [];
    const bad: { file: string; reason: string }[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(this.dir, name);
      try {
        const parsed = taskRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
        if (parsed.success && `${parsed.data.command.taskId}.json` === name) {
          records.push(parsed.data);
          continue;
        }
        bad.push({ file, reason: parsed.success ? 'task id does not match the file name' : (parsed.error.issues[0]?.message ?? 'invalid record') });
      } catch (err) {
        bad.push({ file, reason: (err as Error).message });
      }
      renameSync(file, `${file}.bad`);
    }
    return { records, bad };
  }

  /** Removes the task's record and any file it left (result, extract parts, temporary record). */
  remove(taskId: string): void {
    this.removeFiles(taskId);
    rmSync(this.recordPath(taskId), { force: true });
  }

  /** Removes the task's result file and the extract's leftovers (parts directory), keeping its record. */
  removeFiles(taskId: string): void {
    const result = `${checked(taskId)}.pcap`;
    for (const name of readdirSync(this.dir)) {
      if (name === result || name.startsWith(`.${result}.parts-`) || name === `${taskId}.json.tmp`) {
        rmSync(join(this.dir, name), { recursive: true, force: true });
      }
    }
  }

  /**
   * Files in the directory that belong to no known task (a record removed by hand, a crash between
   * steps): removed when older than `olderThanMs`. Returns the names removed.
   */
  sweepOrphans(known: ReadonlySet<string>, olderThanMs: number, now = Date.now()): string[] {
    const removed: string[] = [];
    for (const name of readdirSync(this.dir)) {
      const id = /^\.?([A-Za-z0-9][A-Za-z0-9_.-]*?)\.(?:pcap|json\.tmp|pcap\.parts-.*)$/.exec(name)?.[1];
      if (id === undefined || known.has(id)) continue;
      const path = join(this.dir, name);
      try {
        if (now - statSync(path).mtimeMs < olderThanMs) continue;
      } catch {
        continue;
      }
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }
}
