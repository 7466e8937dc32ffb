import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import {
  PRIORITY_HIGHEST,
  PRIORITY_LOWEST,
  SCHEDULE_NAME_PATTERN,
  type Schedule,
  TaskApiError,
} from '@solar-tasks/contract';
import { CronExpressionParser } from 'cron-parser';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { TaskJobData } from './task-job.js';
import type { TaskQueue } from './task-queue.js';

/**
 * Periodic tasks (what Celery Beat does), declared in `SCHEDULES_FILE` and
 * run by BullMQ job schedulers.
 *
 * A job scheduler is one Redis entry per schedule; BullMQ keeps exactly one
 * next job for it, with the id `repeat:<name>:<slot ms>`, and creates the
 * following one atomically when that job is taken. Any number of workers may
 * upsert the same schedules at start: the upsert overwrites the entry and the
 * job id of a slot is the same for all of them, so a slot runs once.
 *
 * `syncSchedules` makes Redis match the file: upserts every schedule and
 * removes job schedulers that the file no longer has (in every queue, since
 * a schedule may have moved to a task of another queue).
 */

/** One entry of `SCHEDULES_FILE`. */
export const scheduleEntrySchema = z
  .strictObject({
    /** Unique name; part of the ids of the tasks it starts. */
    name: z.string().regex(SCHEDULE_NAME_PATTERN, {
      error: 'must be 1–64 lower-case letters, digits, _ or -, starting with a letter or digit',
    }),
    /** A registered task name. */
    task: z.string().min(1).max(64),
    /** Positional arguments, bound like an enqueue's. */
    args: z.array(z.unknown()).max(50).default([]),
    /** Keyword arguments, bound by name. */
    kwargs: z.record(z.string(), z.unknown()).default({}),
    /** Cron pattern, 5 fields (or 6 with seconds first), read in `tz`. */
    cron: z.string().min(1).max(200).optional(),
    /** Or: run every this many seconds. */
    every: z
      .number()
      .min(1)
      .max(366 * 86_400)
      .optional(),
    /** IANA time zone of `cron`. @defaultValue UTC */
    tz: z.string().min(1).max(64).default('UTC'),
    priority: z.int().min(PRIORITY_HIGHEST).max(PRIORITY_LOWEST).optional(),
    max_retries: z.int().min(0).max(100).optional(),
    retry_delay: z.number().min(0).max(86_400).optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.cron === undefined) === (entry.every === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['cron'], message: 'give exactly one of cron or every' });
      return;
    }
    try {
      new Intl.DateTimeFormat('en', { timeZone: entry.tz });
    } catch {
      ctx.addIssue({ code: 'custom', path: ['tz'], message: `unknown time zone "${entry.tz}"` });
      return;
    }
    if (entry.cron !== undefined) {
      try {
        CronExpressionParser.parse(entry.cron, { tz: entry.tz });
      } catch (err) {
        ctx.addIssue({
          code: 'custom',
          path: ['cron'],
          message: `invalid cron pattern: ${(err as Error).message}`,
        });
      }
    }
  });
export type ScheduleEntry = z.output<typeof scheduleEntrySchema>;

/** The whole file: `{ schedules: [...] }` (or just the list). */
const scheduleFileSchema = z
  .union([z.strictObject({ schedules: z.array(z.unknown()).max(1000) }), z.array(z.unknown()).max(1000)])
  .transform((v) => (Array.isArray(v) ? v : v.schedules));

/** A schedules file that cannot be used; the message names the entry and field. */
export class ScheduleConfigError extends Error {
  constructor(
    message: string,
    readonly issues: { entry: string; field: string; message: string }[],
  ) {
    super(message);
    this.name = 'ScheduleConfigError';
  }
}

/**
 * Parses and checks schedules (JSON or YAML text) against the task catalog:
 * every entry's task must exist and its arguments must bind. Names must be
 * unique. Throws {@link ScheduleConfigError} listing every problem.
 */
export function parseSchedules(text: string, queue: TaskQueue, source = 'schedules'): ScheduleEntry[] {
  let raw: unknown;
  try {
    raw = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new ScheduleConfigError(`${source}: not valid YAML or JSON: ${(err as Error).message}`, []);
  }
  const file = scheduleFileSchema.safeParse(raw ?? []);
  if (!file.success)
    throw new ScheduleConfigError(`${source}: expected a list of schedules, or { schedules: [...] }`, []);
  const issues: ScheduleConfigError['issues'] = [];
  const entries: ScheduleEntry[] = [];
  const seen = new Set<string>();
  file.data.forEach((item, index) => {
    const label =
      typeof (item as { name?: unknown })?.name === 'string'
        ? `schedules[${index}] (${(item as { name: string }).name})`
        : `schedules[${index}]`;
    const parsed = scheduleEntrySchema.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        issues.push({ entry: label, field: issue.path.join('.') || '(entry)', message: issue.message });
      return;
    }
    const entry = parsed.data;
    if (seen.has(entry.name)) {
      issues.push({ entry: label, field: 'name', message: `duplicate schedule name "${entry.name}"` });
      return;
    }
    seen.add(entry.name);
    try {
      queue.prepare(templateInput(entry));
    } catch (err) {
      if (!(err instanceof TaskApiError)) throw err;
      const details = Array.isArray(err.details)
        ? (err.details as { field?: string; message?: string }[])
        : [];
      const field =
        err.code === 'UNKNOWN_TASK'
          ? 'task'
          : (details[0]?.field ?? (err.details as { field?: string })?.field);
      issues.push({ entry: label, field: field ?? '(entry)', message: err.message });
      return;
    }
    entries.push(entry);
  });
  if (issues.length > 0) {
    const lines = issues.map((i) => `  ${i.entry}: ${i.field}: ${i.message}`);
    throw new ScheduleConfigError(`${source}: invalid schedules:\n${lines.join('\n')}`, issues);
  }
  return entries;
}

/** Reads and parses `SCHEDULES_FILE` (`.json`, `.yaml` or `.yml`). */
export async function loadSchedulesFile(path: string, queue: TaskQueue): Promise<ScheduleEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ScheduleConfigError(`SCHEDULES_FILE: cannot read ${path}: ${(err as Error).message}`, []);
  }
  if (!['.json', '.yaml', '.yml'].includes(extname(path).toLowerCase()))
    throw new ScheduleConfigError(`SCHEDULES_FILE: ${path} must end in .json, .yaml or .yml`, []);
  return parseSchedules(text, queue, `SCHEDULES_FILE ${path}`);
}

function templateInput(entry: ScheduleEntry) {
  return {
    task_name: entry.task,
    args: entry.args,
    kwargs: entry.kwargs,
    priority: entry.priority,
    max_retries: entry.max_retries,
    retry_delay: entry.retry_delay,
  };
}

/** What a sync changed. */
export interface SyncResult {
  upserted: string[];
  removed: string[];
}

/**
 * Makes Redis hold exactly `entries`: upserts each (idempotent; safe from any
 * number of replicas at once) and removes job schedulers not among them.
 */
export async function syncSchedules(
  queue: TaskQueue,
  entries: readonly ScheduleEntry[],
): Promise<SyncResult> {
  const result: SyncResult = { upserted: [], removed: [] };
  const wanted = new Map<string, string>(); // name → queue
  for (const entry of entries) {
    const prepared = queue.prepare(templateInput(entry));
    const { jobId: _id, delay: _d, timestamp: _t, ...opts } = prepared.opts;
    const repeat =
      entry.cron !== undefined ? { pattern: entry.cron, tz: entry.tz } : { every: entry.every! * 1000 };
    await queue.bullQueue(prepared.def.queue).upsertJobScheduler(entry.name, repeat, {
      name: prepared.def.name,
      data: prepared.data,
      opts,
    });
    wanted.set(entry.name, prepared.def.queue);
    result.upserted.push(entry.name);
  }
  for (const name of queue.queueNames()) {
    const bull = queue.bullQueue(name);
    for (const scheduler of await bull.getJobSchedulers(0, -1, true)) {
      if (wanted.get(scheduler.key) === name) continue;
      await bull.removeJobScheduler(scheduler.key);
      result.removed.push(scheduler.key);
    }
  }
  return result;
}

/** The job schedulers stored in Redis, in every queue, soonest first. */
export async function listSchedules(queue: TaskQueue): Promise<Schedule[]> {
  const out: Schedule[] = [];
  for (const name of queue.queueNames()) {
    for (const s of await queue.bullQueue(name).getJobSchedulers(0, -1, true)) {
      const data = s.template?.data as Partial<TaskJobData> | undefined;
      out.push({
        name: s.key,
        task_name: s.name,
        queue: name,
        cron: s.pattern ?? null,
        tz: s.pattern ? (s.tz ?? 'UTC') : null,
        every_ms: s.every ? Number(s.every) : null,
        next_run_at: s.next ? new Date(s.next).toISOString() : null,
        priority: s.template?.opts?.priority ?? null,
        arguments: data?.args ?? {},
      });
    }
  }
  return out.sort((a, b) => (a.next_run_at ?? '').localeCompare(b.next_run_at ?? ''));
}
