/**
 * Which sensor a task was given to: the jobs domain's answer to the broker's task-status check
 * (broker/embedded.ts refuses a sensor's status for another sensor's task). The owner of a task
 * never changes, so callers may cache a non-null answer for as long as they like.
 */
import type { Queryable } from '../../storage/db.types.js';
import { findTask } from '../../storage/job-tasks.repo.js';

/** The sensor name of task `taskId`; null when no such task exists (never created, or its job deleted). */
export async function taskOwner(db: Queryable, taskId: string): Promise<string | null> {
  return (await findTask(db, taskId))?.sensorName ?? null;
}
