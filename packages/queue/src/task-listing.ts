import {
  DEFAULT_LIST_LIMIT,
  MAX_LIST_LIMIT,
  TaskApiError,
  type TaskPageResponse,
  type TaskStatus,
  type TaskStatusResponse,
} from '@solar-tasks/contract';
import type { Job, JobState, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { RedisClient } from './redis-connection.js';
import { type TaskJobData, toStatusResponse } from './task-job.js';

/**
 * Paged listing of tasks, read straight from BullMQ's per-state keys.
 *
 * Order: queue by queue (catalog order), and inside a queue state by state —
 * running, pending, scheduled/retrying, failed, completed. Sorted sets are
 * walked by rank from the newest end (failed and completed: most recently
 * finished first), lists from their head.
 *
 * Stable paging: the cursor remembers the queue, the state and the last task
 * id handed out (with its score or index). The next page starts right after
 * that task's *current* rank, so tasks removed or added before it (cleanup,
 * new completions) shift nothing: a task that stays in its state for the
 * whole walk is listed exactly once. A task that changes state mid-walk may
 * be listed twice or not at all, as with any live listing. If the last task
 * itself is gone, the page starts after its remembered score (sorted sets) or
 * index (lists).
 *
 * Work per page is bounded: at most `limit × 4` (at least 200) entries are
 * read; with filters a page can therefore come back short, with a cursor.
 */

/** One state key of a queue walked by the listing, in listing order. */
interface Source {
  /** BullMQ key type (`queue.keys[type]`). */
  type: 'active' | 'wait' | 'paused' | 'prioritized' | 'delayed' | 'failed' | 'completed';
  kind: 'list' | 'zset';
  state: JobState;
}

const SOURCES: readonly Source[] = [
  { type: 'active', kind: 'list', state: 'active' },
  { type: 'wait', kind: 'list', state: 'waiting' },
  { type: 'paused', kind: 'list', state: 'waiting' },
  { type: 'prioritized', kind: 'zset', state: 'prioritized' },
  { type: 'delayed', kind: 'zset', state: 'delayed' },
  { type: 'failed', kind: 'zset', state: 'failed' },
  { type: 'completed', kind: 'zset', state: 'completed' },
];

/** The BullMQ states each status can be found in (cancelled: anywhere not completed). */
const SOURCES_OF: Record<TaskStatus, readonly Source['type'][]> = {
  pending: ['wait', 'paused', 'prioritized'],
  scheduled: ['delayed'],
  retrying: ['delayed'],
  running: ['active'],
  completed: ['completed'],
  failed: ['failed'],
  cancelled: ['active', 'wait', 'paused', 'prioritized', 'delayed', 'failed'],
};

/** Filters and paging of {@link listTasks}. */
export interface ListTasksOptions {
  status?: TaskStatus | undefined;
  task_name?: string | undefined;
  /** 1–500. @defaultValue 50 */
  limit?: number | undefined;
  /** `next_cursor` of the previous page. */
  cursor?: string | undefined;
}

const cursorSchema = z.strictObject({
  v: z.literal(1),
  /** Queue index in the catalog's order. */
  q: z.int().min(0).max(1000),
  /** Source index in SOURCES. */
  s: z
    .int()
    .min(0)
    .max(SOURCES.length - 1),
  /** Last id handed out in this source, if any. */
  id: z.string().max(200).nullable(),
  /** Its score (sorted sets) or index (lists). */
  at: z.number().nullable(),
  /** Filters the cursor was made for: a cursor cannot change them. */
  st: z.string().nullable(),
  tn: z.string().nullable(),
});
type Cursor = z.output<typeof cursorSchema>;

/**
 * A cursor is an opaque token the API issued: one it did not issue is a
 * malformed request (400 `BAD_REQUEST`, like a malformed task id), not a
 * field value to correct (422).
 */
function invalidCursor(message: string): TaskApiError {
  return new TaskApiError('BAD_REQUEST', `cursor: ${message}`, [
    { field: 'cursor', message, code: 'invalid_cursor' },
  ]);
}

/** Decodes an opaque cursor; a malformed one is a `BAD_REQUEST` naming `cursor`. */
export function decodeCursor(raw: string): Cursor {
  let parsed: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('not base64url');
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('is not a cursor returned by this API (pass next_cursor unchanged)');
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success)
    throw invalidCursor('is not a cursor returned by this API (pass next_cursor unchanged)');
  return result.data;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/** Lists tasks of `queues` (name → BullMQ queue, in a fixed order), one page at a time. */
export async function listTasks(
  redis: RedisClient,
  queues: readonly (readonly [string, Queue<TaskJobData>])[],
  options: ListTasksOptions = {},
): Promise<TaskPageResponse> {
  const limit = options.limit ?? DEFAULT_LIST_LIMIT;
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIST_LIMIT)) {
    throw new TaskApiError('VALIDATION_ERROR', `limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`, [
      { field: 'limit', message: `must be from 1 to ${MAX_LIST_LIMIT}`, code: 'too_big' },
    ]);
  }
  const st = options.status ?? null;
  const tn = options.task_name ?? null;
  let cursor: Cursor = { v: 1, q: 0, s: 0, id: null, at: null, st, tn };
  if (options.cursor !== undefined) {
    cursor = decodeCursor(options.cursor);
    if (cursor.st !== st || cursor.tn !== tn)
      throw invalidCursor('was made for other filters (keep status and task_name while paging)');
  }
  const allowed = new Set(st ? SOURCES_OF[st] : SOURCES.map((s) => s.type));
  const tasks: TaskStatusResponse[] = [];
  let budget = Math.max(200, limit * 4);

  while (cursor.q < queues.length) {
    const [queueName, queue] = queues[cursor.q]!;
    const source = SOURCES[cursor.s]!;
    if (allowed.has(source.type)) {
      const want = Math.min(limit - tasks.length, budget);
      const slice = await readSlice(redis, queue, source, cursor, want);
      budget -= slice.entries.length;
      const found = await Promise.all(
        slice.entries.map(async ({ id, at }) => {
          const job = (await queue.getJob(id)) as Job<TaskJobData> | undefined;
          return { id, at, job };
        }),
      );
      for (const { id, at, job } of found) {
        cursor = { ...cursor, id, at };
        if (!job?.name) continue;
        if (tn !== null && job.name !== tn) continue;
        const runAt = source.type === 'delayed' ? Math.floor(at / 0x1000) : null;
        const view = toStatusResponse(job, queueName, source.state, runAt);
        if (st !== null && view.status !== st) continue;
        tasks.push(view);
      }
      if (!slice.exhausted) {
        // The page is full or the read budget is spent: more may follow here.
        return { tasks, next_cursor: encodeCursor(cursor) };
      }
    }
    cursor = nextSource(cursor, queues.length);
    if (tasks.length >= limit || budget <= 0) {
      return { tasks, next_cursor: cursor.q < queues.length ? encodeCursor(cursor) : null };
    }
  }
  return { tasks, next_cursor: null };
}

function nextSource(cursor: Cursor, queueCount: number): Cursor {
  const s = cursor.s + 1;
  if (s < SOURCES.length) return { ...cursor, s, id: null, at: null };
  return { ...cursor, q: Math.min(cursor.q + 1, queueCount), s: 0, id: null, at: null };
}

interface Slice {
  entries: { id: string; at: number }[];
  /** True when the source has nothing after these entries. */
  exhausted: boolean;
}

/** Up to `count` entries of one state key after the cursor's position. */
async function readSlice(
  redis: RedisClient,
  queue: Queue<TaskJobData>,
  source: Source,
  cursor: Cursor,
  count: number,
): Promise<Slice> {
  const client = redis as Redis;
  const key = queue.keys[source.type]!;
  if (source.kind === 'zset') {
    let start = 0;
    if (cursor.id !== null) {
      const rank = await client.zrevrank(key, cursor.id);
      // Gone: start after every entry scored at or above the last one seen.
      start = rank !== null ? rank + 1 : await client.zcount(key, `${cursor.at ?? '+inf'}`, '+inf');
    }
    const flat = await client.zrevrange(key, start, start + count, 'WITHSCORES');
    const entries: Slice['entries'] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push({ id: flat[i]!, at: Number(flat[i + 1]) });
    return { entries: entries.slice(0, count), exhausted: entries.length <= count };
  }
  let start = 0;
  if (cursor.id !== null) {
    const pos = (await client.lpos(key, cursor.id)) as number | null;
    start = pos !== null ? pos + 1 : Math.max(0, Math.floor(cursor.at ?? -1) + 1);
  }
  const ids: string[] = await client.lrange(key, start, start + count);
  const entries = ids.map((id, i) => ({ id, at: start + i }));
  return { entries: entries.slice(0, count), exhausted: entries.length <= count };
}
