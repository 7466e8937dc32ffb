import type { TaskQueue } from '@solar-tasks/queue';
import { createLogger } from '@solar-tasks/runtime';
import pino from 'pino';
import type { WorkerSettings } from '../env.js';
import type { TaskWorker } from '../task-worker.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-process.js';

/** Counts of one `tasks process --limit` run. */
export interface ProcessSummary {
  /** Tasks started (at most the limit). */
  processed: number;
  succeeded: number;
  /** Attempts that failed and were scheduled again by the retry policy. */
  retried: number;
  /** Tasks that failed for good (last attempt, or a permanent error). */
  failed: number;
  /** Tasks discarded because a user had cancelled them. */
  cancelled: number;
  /** Tasks handed back to the queue at shutdown (not counted as processed). */
  handed_back: number;
}

/** True when the run should exit 0: nothing failed for good. */
export function succeeded(summary: ProcessSummary): boolean {
  return summary.failed === 0;
}

/**
 * Processes at most `limit` ready tasks of the served queues, then stops
 * gracefully: the replacement for `manage.py process_tasks --limit` in cron.
 * It stops early once the served queues have no ready task and nothing runs.
 *
 * The limit is exact: the worker is closed synchronously when the last
 * allowed task starts, and a task BullMQ fetched in the meantime is handed
 * back to the queue untouched (see TaskWorker).
 */
export async function processLimited(
  settings: WorkerSettings,
  limit: number,
  options: { idlePollMs?: number } = {},
): Promise<ProcessSummary> {
  const summary: ProcessSummary = {
    processed: 0,
    succeeded: 0,
    retried: 0,
    failed: 0,
    cancelled: 0,
    handed_back: 0,
  };
  let closing = false;
  let closed = () => {};
  const done = new Promise<void>((resolve) => {
    closed = resolve;
  });
  let worker: TaskWorker | undefined;
  const close = () => {
    if (closing || !worker) return;
    closing = true;
    // Synchronous up to the point where the worker refuses new tasks.
    void worker.close();
    closed();
  };
  const listen = (w: TaskWorker) => {
    worker = w;
    w.on('task:started', () => {
      summary.processed += 1;
      if (summary.processed >= limit) close();
    });
    w.on('task:completed', () => {
      summary.succeeded += 1;
    });
    w.on('task:failed', ({ error, willRetry }) => {
      if (willRetry) summary.retried += 1;
      else if (error.startsWith('cancelled')) summary.cancelled += 1;
      else summary.failed += 1;
    });
  };
  const running: WorkerProcess = await startWorkerProcess(
    {
      ...settings,
      // Fetch no more than can be run.
      WORKER_CONCURRENCY: Math.min(settings.WORKER_CONCURRENCY, limit),
    },
    {
      // stdout carries the summary (JSON with --json): logs go to stderr.
      logger: createLogger({
        name: 'worker',
        level: settings.LOG_LEVEL,
        destination: pino.destination({ dest: 2, sync: true }),
      }),
      // Listen before the first task can start (schedules may make one due at once).
      beforeStart: listen,
    },
  );
  const { queue } = running;
  // Idle twice in a row: a task fetched a moment ago but not yet started is seen the second time.
  let idleBefore = false;
  const idle = setInterval(() => {
    void isIdle(queue, running.worker).then((yes) => {
      if (yes && idleBefore) close();
      idleBefore = yes;
    });
  }, options.idlePollMs ?? 250);
  await done;
  clearInterval(idle);
  const { handedBack } = await running.stop();
  summary.handed_back = handedBack.length;
  return summary;
}

/**
 * No task running here and none ready in the served queues. Tasks other
 * workers run do not count; a task fetched here a moment ago but not yet
 * started is handed back by the closing worker, not lost.
 */
async function isIdle(queue: TaskQueue, worker: TaskWorker): Promise<boolean> {
  if (worker.activeTaskIds().length > 0) return false;
  const counts = await Promise.all(
    worker.queues.map((name) => queue.bullQueue(name).getJobCounts('waiting', 'prioritized')),
  );
  return counts.every((c) => (c.waiting ?? 0) + (c.prioritized ?? 0) === 0);
}
