import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './error-codes.js';
import { PRIORITY_HIGHEST, PRIORITY_LOWEST } from './priority.js';
import { TASK_STATUSES } from './status.js';

/**
 * REST request and response schemas. They keep the seed system's contract
 * (`task_name`, `args`, `kwargs`, `priority`, `max_retries`, `retry_delay`)
 * and add scheduling and idempotency.
 */

/** Longest accepted delay: a year. Longer is almost certainly a unit mistake. */
export const MAX_DELAY_SECONDS = 366 * 86_400;

/**
 * Names of periodic schedules (`SCHEDULES_FILE`): lower-case letters, digits,
 * `_` and `-`. They are part of the ids of the tasks a schedule starts.
 */
export const SCHEDULE_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/**
 * Ids of tasks started by a schedule: BullMQ's job-scheduler ids,
 * `repeat:<schedule name>:<slot time in ms>`, one per slot.
 */
export const SCHEDULED_TASK_ID_PATTERN = /^repeat:[a-z0-9][a-z0-9_-]{0,63}:\d{1,16}$/;

/**
 * Task ids are UUIDs, or `repeat:<schedule>:<ms>` for tasks started by a
 * schedule; anything else is rejected before Redis is touched.
 */
export const taskIdSchema = z.union([z.uuid(), z.string().regex(SCHEDULED_TASK_ID_PATTERN)], {
  error: 'must be a task id (a UUID, or repeat:<schedule>:<ms> for a scheduled run)',
});

const idempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** `POST /api/tasks/enqueue/` body. */
export const enqueueRequestSchema = z.strictObject({
  /** A registered task name (see `GET /api/tasks/list/`). */
  task_name: z.string().min(1).max(64),
  /** Positional arguments, bound to the task's parameters in order. */
  args: z.array(z.unknown()).max(50).default([]),
  /** Keyword arguments, bound by name. */
  kwargs: z.record(z.string().max(64), z.unknown()).default({}),
  /** 1 = highest … 10 = lowest; the task's default when left out. */
  priority: z.int().min(PRIORITY_HIGHEST).max(PRIORITY_LOWEST).optional(),
  /** Retries after the first attempt. */
  max_retries: z.int().min(0).max(100).optional(),
  /** Base retry delay in seconds; attempt n waits `retry_delay × 2^(n-1)`. */
  retry_delay: z
    .number()
    .min(0)
    .max(7 * 86_400)
    .optional(),
  /** Run no earlier than this instant (ISO-8601 with offset). */
  eta: z.iso.datetime({ offset: true }).optional(),
  /** Run no earlier than this many seconds from now. */
  countdown: z.number().min(0).max(MAX_DELAY_SECONDS).optional(),
  /** The same key returns the same task id and never queues a second task. */
  idempotency_key: idempotencyKey.optional(),
});
export type EnqueueRequest = z.input<typeof enqueueRequestSchema>;
export type ParsedEnqueueRequest = z.output<typeof enqueueRequestSchema>;

/** Most tasks one `POST /api/tasks/enqueue-bulk/` may carry. */
export const MAX_BULK_TASKS = 1000;

/** `POST /api/tasks/enqueue-bulk/` body: up to {@link MAX_BULK_TASKS} enqueue requests, all or nothing. */
export const enqueueBulkRequestSchema = z.strictObject({
  tasks: z.array(enqueueRequestSchema).min(1).max(MAX_BULK_TASKS),
});
export type EnqueueBulkRequest = z.input<typeof enqueueBulkRequestSchema>;

/** A status word of the status model. */
export const taskStatusSchema = z.enum(TASK_STATUSES);
const timestamp = z.iso.datetime().nullable();

/** `POST /api/tasks/enqueue/` answer (201 new, 200 for a repeated idempotency key). */
export const enqueueResponseSchema = z.object({
  task_id: z.string(),
  task_name: z.string(),
  status: taskStatusSchema,
});
export type EnqueueResponse = z.output<typeof enqueueResponseSchema>;

/** `POST /api/tasks/enqueue-bulk/` answer: one entry per request item, in order. */
export const enqueueBulkResponseSchema = z.object({
  tasks: z.array(enqueueResponseSchema.extend({ created: z.boolean() })),
});
export type EnqueueBulkResponse = z.output<typeof enqueueBulkResponseSchema>;

/** `GET /api/tasks/status/<id>/` answer. */
export const taskStatusResponseSchema = z.object({
  task_id: z.string(),
  task_name: z.string(),
  queue: z.string(),
  status: taskStatusSchema,
  priority: z.int(),
  /** The arguments as bound onto the task's parameters. */
  arguments: z.record(z.string(), z.unknown()),
  /** Attempts made so far (finished attempts, including the successful one). */
  attempts: z.int(),
  max_retries: z.int(),
  retry_delay: z.number(),
  /** The handler's return value once `completed`. */
  result: z.unknown().nullable(),
  /** The last error message (`failed`, `retrying`, `cancelled`). */
  error: z.string().nullable(),
  created_at: timestamp,
  /** When a `scheduled` task becomes due. */
  scheduled_for: timestamp,
  /** Start of the latest attempt. */
  started_at: timestamp,
  finished_at: timestamp,
  next_retry_at: timestamp,
  idempotency_key: z.string().nullable(),
});
export type TaskStatusResponse = z.output<typeof taskStatusResponseSchema>;

/** One entry of `GET /api/tasks/list/`. */
export const taskTypeSchema = z.object({
  name: z.string(),
  description: z.string(),
  queue: z.string(),
  /** Positional parameter order. */
  parameters: z.array(z.string()),
  defaults: z.object({
    priority: z.int(),
    max_retries: z.int(),
    retry_delay: z.number(),
    timeout: z.number(),
  }),
  /** JSON Schema of the task's arguments. */
  args_schema: z.record(z.string(), z.unknown()),
});
export const taskListResponseSchema = z.object({ tasks: z.array(taskTypeSchema) });
export type TaskListResponse = z.output<typeof taskListResponseSchema>;

/** Counts of one queue, by status. `scheduled` includes tasks waiting for a retry. */
export const queueCountsSchema = z.object({
  pending: z.int(),
  scheduled: z.int(),
  running: z.int(),
  completed: z.int(),
  failed: z.int(),
  paused: z.boolean(),
  /** Seconds the longest-waiting ready task has been due; 0 when none waits. Absent from servers before 0.2. */
  oldest_pending_age_seconds: z.number().min(0).optional(),
});
export type QueueCounts = z.output<typeof queueCountsSchema>;

/** Lifetime totals of one task name (counted by the API and workers). */
export const taskTotalsSchema = z.object({
  enqueued: z.int(),
  completed: z.int(),
  failed: z.int(),
  retried: z.int(),
  cancelled: z.int(),
});
export type TaskTotals = z.output<typeof taskTotalsSchema>;

/** Finished attempts in one minute, across every worker. */
export const minuteThroughputSchema = z.object({
  /** Start of the minute, ISO 8601 (UTC). */
  minute: z.string(),
  /** Attempts that succeeded. */
  completed: z.int(),
  /** Attempts that failed for good (no retry left). */
  failed: z.int(),
  /** Attempts that failed and were scheduled to retry. */
  retried: z.int(),
});
export type MinuteThroughput = z.output<typeof minuteThroughputSchema>;

/**
 * `GET /api/tasks/queue-status/` answer. `workers_online`,
 * `oldest_pending_age_seconds` and `throughput` were added later: optional,
 * so clients parse answers of older servers too.
 */
export const queueStatusResponseSchema = z.object({
  queues: z.record(z.string(), queueCountsSchema),
  totals: queueCountsSchema.omit({ paused: true, oldest_pending_age_seconds: true }),
  tasks: z.record(z.string(), taskTotalsSchema),
  /** Worker processes that sent a heartbeat within the last 15 s. */
  workers_online: z.int().min(0).optional(),
  /** The largest `oldest_pending_age_seconds` of the queues. */
  oldest_pending_age_seconds: z.number().min(0).optional(),
  /** Finished attempts per minute, oldest first; the last entry is the current (partial) minute. */
  throughput: z.object({ minutes: z.int(), per_minute: z.array(minuteThroughputSchema) }).optional(),
});
export type QueueStatusResponse = z.output<typeof queueStatusResponseSchema>;

/** The one error body shape: `{ error: { code, message, details? } }`. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.unknown().optional(),
    request_id: z.string().optional(),
  }),
});
export type ErrorBody = z.output<typeof errorBodySchema>;
