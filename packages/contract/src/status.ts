/**
 * The status model: one word per state a user cares about.
 *
 * ```
 *             enqueue                     eta/countdown
 *   ┌──────────────┬─────────────────────────────┐
 *   ▼              │                             ▼
 * pending ──► running ──► completed         scheduled ──► pending
 *   ▲            │   └──► failed (last attempt, or PermanentTaskError)
 *   │            ▼
 *   └────── retrying (next_retry_at set)
 *
 * pending | scheduled | retrying | running ──cancel──► cancelled
 * ```
 */
export const TASK_STATUSES = [
  'pending',
  'scheduled',
  'running',
  'retrying',
  'completed',
  'failed',
  'cancelled',
] as const;

/** A task's status as the REST API reports it. */
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses from which a task will not move again on its own. */
export const FINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

/** True once the task has finished, one way or another. */
export function isFinalStatus(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}
