import { z } from 'zod';
import { PRIORITY_HIGHEST, PRIORITY_LOWEST } from './priority.js';

/**
 * Per-task defaults. Any field a task leaves out falls back to the deployment's
 * settings (`TASK_DEFAULT_PRIORITY`, `TASK_DEFAULT_MAX_RETRIES`,
 * `TASK_DEFAULT_RETRY_DELAY`), then to the seed's values (5, 3, 60).
 */
export interface TaskDefaults {
  /** 1 = highest … 10 = lowest. */
  priority: number;
  /** Retries after the first attempt (so `maxRetries + 1` attempts in all). */
  maxRetries: number;
  /** Base retry delay in seconds; attempt n waits `retryDelay × 2^(n-1)`. */
  retryDelay: number;
  /** Seconds one attempt may run before it is aborted and counted as failed. */
  timeout: number;
  /** Fraction (0–1) of each retry delay that is randomised, to spread retry storms. */
  jitter: number;
}

/** The seed system's defaults (its `TASK_PROCESSING` block), plus a timeout and no jitter. */
export const SEED_DEFAULTS: TaskDefaults = Object.freeze({
  priority: 5,
  maxRetries: 3,
  retryDelay: 60,
  timeout: 30,
  jitter: 0,
});

/** The argument schema of a task: a zod object whose key order is the positional order. */
export type TaskArgsSchema = z.ZodObject;

/** A task type: data shared by the API (validates before enqueueing) and the worker (validates again). */
export interface TaskDefinition<Name extends string = string, Args extends TaskArgsSchema = TaskArgsSchema> {
  /** Registry name, e.g. `send_email`: lower snake case, stable across releases. */
  readonly name: Name;
  /** One line for humans: the task list, OpenAPI and the dashboard show it. */
  readonly description: string;
  /** Arguments; keys in declaration order are the positional parameters. */
  readonly args: Args;
  /** Defaults this task declares; the rest come from settings. */
  readonly defaults: Readonly<Partial<TaskDefaults>>;
  /** BullMQ queue the task runs on; a worker serves the queues in `WORKER_QUEUES`. */
  readonly queue: string;
  /** Positional parameter names, in order (the keys of `args`). */
  readonly parameters: readonly string[];
}

/** Arguments a handler receives (after parsing and defaults). */
export type TaskArgs<T> = T extends TaskDefinition<string, infer A> ? z.output<A> : never;
/** Arguments a caller may send (before defaults). */
export type TaskInput<T> = T extends TaskDefinition<string, infer A> ? z.input<A> : never;
/** The name of a task definition, as a literal type. */
export type TaskName<T> = T extends TaskDefinition<infer N> ? N : never;

/** Options accepted by {@link defineTask}. */
export interface DefineTaskOptions<Name extends string, Args extends TaskArgsSchema> {
  name: Name;
  description: string;
  args: Args;
  defaults?: Partial<TaskDefaults>;
  /** @defaultValue `'default'` */
  queue?: string;
}

const TASK_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const QUEUE_NAME = /^[a-z][a-z0-9-]{0,31}$/;

const defaultsSchema = z
  .object({
    priority: z.int().min(PRIORITY_HIGHEST).max(PRIORITY_LOWEST),
    maxRetries: z.int().min(0).max(100),
    retryDelay: z
      .number()
      .min(0)
      .max(7 * 86_400),
    timeout: z.number().positive().max(86_400),
    jitter: z.number().min(0).max(1),
  })
  .partial()
  .strict();

/**
 * Declares a task type. Invalid definitions throw at import time: a task
 * contract is code, and a bad one should never reach a running worker.
 */
export function defineTask<const Name extends string, Args extends TaskArgsSchema>(
  options: DefineTaskOptions<Name, Args>,
): TaskDefinition<Name, Args> {
  if (!TASK_NAME.test(options.name)) {
    throw new TypeError(`task name "${options.name}" must match ${TASK_NAME}`);
  }
  const queue = options.queue ?? 'default';
  if (!QUEUE_NAME.test(queue)) {
    throw new TypeError(`queue "${queue}" of task ${options.name} must match ${QUEUE_NAME}`);
  }
  if (!options.description.trim()) {
    throw new TypeError(`task ${options.name} needs a description`);
  }
  const parsed = defaultsSchema.safeParse(options.defaults ?? {});
  if (!parsed.success) {
    throw new TypeError(`task ${options.name} has invalid defaults: ${z.prettifyError(parsed.error)}`);
  }
  return Object.freeze({
    name: options.name,
    description: options.description,
    args: options.args,
    defaults: Object.freeze(parsed.data),
    queue,
    parameters: Object.freeze(Object.keys(options.args.shape)),
  });
}

/** Fills a task's declared defaults with the deployment's, then the seed's. */
export function resolveDefaults(
  task: Pick<TaskDefinition, 'defaults'>,
  settings: Partial<TaskDefaults> = {},
): TaskDefaults {
  return {
    ...SEED_DEFAULTS,
    ...stripUndefined(settings),
    ...stripUndefined(task.defaults),
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
