import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisClient } from './redis-connection.js';
import type { TaskJobData } from './task-job.js';

/**
 * Removes finished tasks older than a number of days, in bounded batches.
 *
 * BullMQ keeps finished jobs in two sorted sets per queue scored by finish
 * time (`completed`, `failed`; a cancelled task ends in `failed` with a cancel
 * mark, so it goes with the failed ones). `Queue.clean(grace, batch, type)`
 * removes up to `batch` of the oldest in one Lua call, job hash and logs
 * included, and returns only their ids: memory stays bounded by the batch,
 * on either side, however many millions there are. A dry run counts with
 * `ZCOUNT`, which reads nothing but the sorted set's index.
 *
 * Nothing else is kept per task: idempotency keys map onto the task id
 * itself (`taskIdForIdempotencyKey`), so removing the job frees the key, and
 * counters are per task name. Running it twice removes nothing the second
 * time (idempotent); it can run while workers run.
 */

/** Which finished tasks to remove. */
export type CleanupStatus = 'completed' | 'failed' | 'all';

/** Options of {@link cleanupTasks}. */
export interface CleanupOptions {
  /** Remove tasks that finished more than this many days ago (> 0; fractions allowed). */
  olderThanDays: number;
  /** @defaultValue 'all' */
  status?: CleanupStatus;
  /** Count only. @defaultValue false */
  dryRun?: boolean;
  /** Tasks removed per Redis call. @defaultValue 1000 */
  batchSize?: number;
  /** Called after each batch with the running total. */
  onProgress?: (progress: CleanupProgress) => void;
}

/** Progress of a cleanup. `total` is the count found at the start. */
export interface CleanupProgress {
  removed: number;
  total: number;
}

/** What a cleanup removed (or, in a dry run, would remove). */
export interface CleanupResult {
  dryRun: boolean;
  /** Tasks finished before this instant were (or would be) removed. */
  cutoff: string;
  /** Per queue and state. */
  queues: Record<string, { completed: number; failed: number }>;
  /** Sum over queues and states. */
  removed: number;
}

/** Checks options and fills defaults; throws a RangeError naming the bad option. */
function checked(options: CleanupOptions): Required<Omit<CleanupOptions, 'onProgress'>> {
  const { olderThanDays, status = 'all', dryRun = false, batchSize = 1000 } = options;
  if (!(Number.isFinite(olderThanDays) && olderThanDays >= 0))
    throw new RangeError(`olderThanDays must be a number >= 0, got ${olderThanDays}`);
  if (!['completed', 'failed', 'all'].includes(status))
    throw new RangeError(`status must be completed, failed or all, got ${status}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 10_000))
    throw new RangeError(`batchSize must be a whole number from 1 to 10000, got ${batchSize}`);
  return { olderThanDays, status, dryRun, batchSize };
}

/** Removes (or counts) finished tasks older than `olderThanDays` in every given queue. */
export async function cleanupTasks(
  redis: RedisClient,
  queues: readonly (readonly [string, Queue<TaskJobData>])[],
  options: CleanupOptions,
): Promise<CleanupResult> {
  const { olderThanDays, status, dryRun, batchSize } = checked(options);
  const graceMs = Math.round(olderThanDays * 86_400_000);
  const cutoffMs = Date.now() - graceMs;
  const types = status === 'all' ? (['completed', 'failed'] as const) : ([status] as const);
  const result: CleanupResult = {
    dryRun,
    cutoff: new Date(cutoffMs).toISOString(),
    queues: {},
    removed: 0,
  };

  // Count first: the dry run's answer, and the progress bar's total.
  const counts = new Map<string, number>();
  let total = 0;
  for (const [name, queue] of queues) {
    result.queues[name] = { completed: 0, failed: 0 };
    const client = redis as Redis;
    for (const type of types) {
      const n = await client.zcount(queue.keys[type]!, '-inf', cutoffMs);
      counts.set(`${name}\0${type}`, n);
      total += n;
    }
  }
  if (dryRun) {
    for (const [name] of queues)
      for (const type of types) result.queues[name]![type] = counts.get(`${name}\0${type}`) ?? 0;
    result.removed = total;
    options.onProgress?.({ removed: total, total });
    return result;
  }

  options.onProgress?.({ removed: 0, total });
  for (const [name, queue] of queues) {
    for (const type of types) {
      for (;;) {
        // The grace is measured from the same cutoff for every batch, so a
        // long cleanup does not chase tasks that finish while it runs.
        const ids = await queue.clean(Math.max(0, Date.now() - cutoffMs), batchSize, type);
        result.queues[name]![type] += ids.length;
        result.removed += ids.length;
        options.onProgress?.({ removed: result.removed, total: Math.max(total, result.removed) });
        if (ids.length < batchSize) break;
      }
    }
  }
  return result;
}
