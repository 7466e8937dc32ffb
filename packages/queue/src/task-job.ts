import { createHash } from 'node:crypto';
import type { TaskStatus, TaskStatusResponse } from '@solar-tasks/contract';
import { uuidOf } from '@solar-tasks/runtime';
import type { Job, JobState } from 'bullmq';

/** Marks a task cancelled by a user; stored inside the job's data. */
export interface CancelMark {
  at: string;
  reason: string;
}

/**
 * What a task's BullMQ job carries. The job's name is the task name; the
 * arguments are bound and validated already, and the worker validates them
 * again (the job may outlive the code that queued it).
 */
export interface TaskJobData {
  /** Payload version, for future migrations. */
  v: 1;
  /** Arguments bound onto the task's parameters. */
  args: Record<string, unknown>;
  /** Seconds one attempt may run. */
  timeout: number;
  /** The caller's idempotency key, if any. */
  idempotency_key?: string;
  /** Fingerprint of task name + arguments, to detect a key reused for something else. */
  fingerprint?: string;
  /** Set when a user cancelled the task. */
  cancelled?: CancelMark;
}

/** Task ids derived from an idempotency key: stable, UUID-shaped (version 8, RFC 9562). */
export function taskIdForIdempotencyKey(key: string): string {
  return uuidOf(createHash('sha256').update(`solar-tasks:idempotency:${key}`).digest(), 0, 8);
}

/** Fingerprint of a request's meaning: same task, same bound arguments. */
export function fingerprint(taskName: string, args: Record<string, unknown>): string {
  return createHash('sha256').update(taskName).update('\0').update(JSON.stringify(args)).digest('base64url');
}

/** Maps a BullMQ state (plus our cancel mark) onto the status model. */
export function statusOf(
  state: JobState | 'unknown',
  data: Partial<TaskJobData>,
  attemptsMade: number,
): TaskStatus {
  switch (state) {
    case 'completed':
      return 'completed';
    case 'failed':
      return data.cancelled ? 'cancelled' : 'failed';
    default:
      if (data.cancelled) return 'cancelled';
  }
  switch (state) {
    case 'active':
      return 'running';
    case 'delayed':
      return attemptsMade > 0 ? 'retrying' : 'scheduled';
    default:
      // waiting, prioritized, waiting-children, and 'unknown' (a job seen mid-move).
      return 'pending';
  }
}

/** BullMQ's reason for failing a job whose worker died more than `maxStalledCount` times. */
export const STALLED_TOO_OFTEN = 'job stalled more than allowable limit';

/**
 * The reason a task failed, in words a user can act on. BullMQ's own text for
 * a poison task ("job stalled more than allowable limit") says neither what
 * happened nor which setting decided it.
 */
export function failureReason(job: Pick<Job, 'failedReason' | 'stalledCounter'>): string | null {
  if (job.failedReason === STALLED_TOO_OFTEN) {
    const times = job.stalledCounter === 1 ? 'once' : `${job.stalledCounter} times`;
    return (
      `poison task: the worker running it died ${times} (crash, kill, or an event loop ` +
      'blocked past the lock duration); failed after WORKER_MAX_STALLED_COUNT recoveries'
    );
  }
  return job.failedReason || null;
}

const iso = (ms: number | undefined | null) => (ms ? new Date(ms).toISOString() : null);

/** Builds the REST status view of a job. `runAt` is when a delayed job becomes due. */
export function toStatusResponse(
  job: Job<TaskJobData>,
  queue: string,
  state: JobState | 'unknown',
  runAt: number | null,
): TaskStatusResponse {
  const data = job.data ?? ({} as Partial<TaskJobData>);
  const status = statusOf(state, data, job.attemptsMade);
  const attempts = job.opts.attempts ?? 1;
  const backoff =
    typeof job.opts.backoff === 'object' ? (job.opts.backoff.delay ?? 0) : (job.opts.backoff ?? 0);
  let error: string | null = null;
  if (status === 'cancelled') error = `cancelled: ${data.cancelled?.reason ?? 'by user'}`;
  else if (status === 'failed' || status === 'retrying') error = failureReason(job);
  return {
    task_id: job.id!,
    task_name: job.name,
    queue,
    status,
    priority: job.priority,
    arguments: data.args ?? {},
    attempts: job.attemptsMade,
    max_retries: attempts - 1,
    retry_delay: backoff / 1000,
    result: status === 'completed' ? (job.returnvalue ?? null) : null,
    error,
    created_at: iso(job.timestamp),
    scheduled_for: status === 'scheduled' ? iso(runAt) : null,
    started_at: iso(job.processedOn),
    finished_at:
      status === 'completed' || status === 'failed' || status === 'cancelled'
        ? (iso(job.finishedOn) ?? data.cancelled?.at ?? null)
        : null,
    next_retry_at: status === 'retrying' ? iso(runAt) : null,
    idempotency_key: data.idempotency_key ?? null,
  };
}
