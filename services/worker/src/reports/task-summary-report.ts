import type { RedisClient, TaskJobData, TaskQueue } from '@solar-tasks/queue';
import type { ReportColumn } from './report-writer.js';

/** One row per task name: how its tasks ended in the period, how long they ran, why they failed. */
export interface TaskSummaryRow {
  task_name: string;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
  /** Mean run time of the last attempt, ms, over completed and failed tasks (cancelled ones are left out). */
  mean_ms: number | null;
  /** 95th percentile (nearest rank) of the same, ms. */
  p95_ms: number | null;
  /** The three most frequent failure reasons, most frequent first. */
  top_failures: { reason: string; count: number }[];
}

export const TASK_SUMMARY_COLUMNS: readonly ReportColumn<TaskSummaryRow>[] = [
  { key: 'task_name' },
  { key: 'completed' },
  { key: 'failed' },
  { key: 'cancelled' },
  { key: 'total' },
  { key: 'mean_ms' },
  { key: 'p95_ms' },
  {
    key: 'top_failures',
    csv: (v) => (v as TaskSummaryRow['top_failures']).map((f) => `${f.reason} (${f.count})`).join('; '),
  },
];

/** Jobs read per Redis round trip. */
const PAGE = 500;
/** Distinct failure reasons tracked per task name; the rest count as "(other)". */
const MAX_REASONS = 1000;
const REASON_LENGTH = 160;

interface Tally {
  completed: number;
  failed: number;
  cancelled: number;
  durations: number[];
  reasons: Map<string, number>;
}

/**
 * Summarises the tasks that finished in `[fromMs, toMs)`. It walks BullMQ's
 * finished sets (`completed`, `failed`, scored by finish time) page by page
 * with ZRANGEBYSCORE, reading only the fields it needs from each job, so
 * memory grows with the number of task names and run times kept for the
 * percentile (8 bytes a task), not with the jobs' payloads. Only tasks still
 * retained (`TASK_CLEANUP_DAYS`) can be counted.
 */
export async function* taskSummaryRows(
  queue: TaskQueue,
  redis: RedisClient,
  fromMs: number,
  toMs: number,
  signal: AbortSignal,
): AsyncGenerator<TaskSummaryRow> {
  const tallies = new Map<string, Tally>();
  for (const name of queue.queueNames()) {
    const bull = queue.bullQueue(name);
    for (const state of ['completed', 'failed'] as const) {
      for await (const ids of finishedIds(redis, bull.keys[state]!, fromMs, toMs, signal)) {
        const pipe = redis.pipeline();
        for (const id of ids)
          pipe.hmget(bull.toKey(id), 'name', 'processedOn', 'finishedOn', 'failedReason', 'data');
        const replies = (await pipe.exec()) ?? [];
        for (const [err, fields] of replies) {
          if (err) throw err;
          const [taskName, processedOn, finishedOn, failedReason, data] = fields as (string | null)[];
          if (!taskName) continue; // removed between the range read and the hash read
          let tally = tallies.get(taskName);
          if (!tally) {
            tally = { completed: 0, failed: 0, cancelled: 0, durations: [], reasons: new Map() };
            tallies.set(taskName, tally);
          }
          const ranFor = processedOn && finishedOn ? Number(finishedOn) - Number(processedOn) : undefined;
          if (state === 'completed') tally.completed++;
          else if (isCancelled(data ?? null)) {
            // A cancelled task's "run" is the moment a worker discarded it (or aborted it): not a run time.
            tally.cancelled++;
            continue;
          } else {
            tally.failed++;
            const reason = (failedReason || 'unknown').slice(0, REASON_LENGTH);
            const key = tally.reasons.has(reason) || tally.reasons.size < MAX_REASONS ? reason : '(other)';
            tally.reasons.set(key, (tally.reasons.get(key) ?? 0) + 1);
          }
          if (ranFor !== undefined) tally.durations.push(ranFor);
        }
      }
    }
  }
  for (const taskName of [...tallies.keys()].sort()) {
    const t = tallies.get(taskName)!;
    yield {
      task_name: taskName,
      completed: t.completed,
      failed: t.failed,
      cancelled: t.cancelled,
      total: t.completed + t.failed + t.cancelled,
      mean_ms: t.durations.length
        ? Math.round(t.durations.reduce((a, b) => a + b, 0) / t.durations.length)
        : null,
      p95_ms: percentile(t.durations, 0.95),
      top_failures: [...t.reasons]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 3)
        .map(([reason, count]) => ({ reason, count })),
    };
  }
}

/** Nearest-rank percentile: the smallest value with at least `p` of the values at or below it. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

/**
 * Pages of job ids from a finished set with scores in `[fromMs, toMs)`. The
 * cursor is the last score seen (plus the ids already read at that score),
 * not an offset, so retention removing old jobs while we read skips nothing.
 */
export async function* finishedIds(
  redis: RedisClient,
  key: string,
  fromMs: number,
  toMs: number,
  signal: AbortSignal,
  pageSize = PAGE,
): AsyncGenerator<string[]> {
  let min = String(fromMs);
  let seenAtMin = new Set<string>();
  for (;;) {
    signal.throwIfAborted();
    const limit = pageSize + seenAtMin.size;
    const flat = await redis.zrangebyscore(key, min, `(${toMs}`, 'WITHSCORES', 'LIMIT', 0, limit);
    const page: string[] = [];
    let lastScore = min;
    let atLast = new Set<string>();
    for (let i = 0; i < flat.length; i += 2) {
      const id = flat[i]!;
      const score = flat[i + 1]!;
      if (score === min && seenAtMin.has(id)) continue;
      page.push(id);
      if (score !== lastScore) {
        lastScore = score;
        atLast = new Set();
      }
      atLast.add(id);
    }
    if (page.length > 0) yield page;
    if (flat.length / 2 < limit) return;
    seenAtMin = lastScore === min ? new Set([...seenAtMin, ...atLast]) : atLast;
    min = lastScore;
  }
}

function isCancelled(data: string | null): boolean {
  if (!data?.includes('"cancelled"')) return false;
  try {
    return Boolean((JSON.parse(data) as Partial<TaskJobData>).cancelled);
  } catch {
    return false;
  }
}
