import { z } from 'zod';
import { taskStatusResponseSchema, taskStatusSchema } from './rest.js';

/**
 * REST schemas of the operator routes: the paged task listing
 * (`GET /api/tasks/`) and the periodic schedules (`GET /api/schedules/`).
 */

/** Largest page of `GET /api/tasks/`. */
export const MAX_LIST_LIMIT = 500;
/** Page size of `GET /api/tasks/` when `limit` is not given. */
export const DEFAULT_LIST_LIMIT = 50;

/** `GET /api/tasks/` query string. */
export const taskListQuerySchema = z.strictObject({
  /** Only tasks with this status. */
  status: taskStatusSchema.optional(),
  /** Only tasks of this task type. */
  task_name: z.string().min(1).max(64).optional(),
  /** Tasks per page, 1–500. */
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT),
  /** `next_cursor` of the previous page; omit for the first page. */
  cursor: z.string().min(1).max(2048).optional(),
});
export type TaskListQuery = z.input<typeof taskListQuerySchema>;

/** `GET /api/tasks/` answer: one page of tasks, newest state group first. */
export const taskPageResponseSchema = z.object({
  tasks: z.array(taskStatusResponseSchema),
  /**
   * Pass as `cursor` to get the next page; null on the last page. A page can
   * hold fewer than `limit` tasks (filters are applied to a bounded slice)
   * and still have a next one: follow `next_cursor` until it is null.
   */
  next_cursor: z.string().nullable(),
});
export type TaskPageResponse = z.output<typeof taskPageResponseSchema>;

/** One periodic schedule as stored in Redis (`GET /api/schedules/`). */
export const scheduleSchema = z.object({
  /** The schedule's name from `SCHEDULES_FILE`. */
  name: z.string(),
  /** The task it starts. */
  task_name: z.string(),
  queue: z.string(),
  /** Cron pattern (with `tz`), or null for an `every` schedule. */
  cron: z.string().nullable(),
  /** IANA time zone of `cron`. */
  tz: z.string().nullable(),
  /** Milliseconds between runs of an `every` schedule. */
  every_ms: z.int().nullable(),
  /** When the next run is due. */
  next_run_at: z.iso.datetime().nullable(),
  priority: z.int().nullable(),
  /** Arguments bound onto the task's parameters. */
  arguments: z.record(z.string(), z.unknown()),
});
export type Schedule = z.output<typeof scheduleSchema>;

/** `GET /api/schedules/` answer. */
export const scheduleListResponseSchema = z.object({ schedules: z.array(scheduleSchema) });
export type ScheduleListResponse = z.output<typeof scheduleListResponseSchema>;
