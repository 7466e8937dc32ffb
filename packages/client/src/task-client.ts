import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type EnqueueRequest,
  type EnqueueResponse,
  enqueueBulkResponseSchema,
  enqueueResponseSchema,
  isFinalStatus,
  type QueueStatusResponse,
  queueStatusResponseSchema,
  type TaskDefinition,
  type TaskInput,
  type TaskListResponse,
  type TaskName,
  type TaskStatusResponse,
  taskListResponseSchema,
  taskStatusResponseSchema,
} from '@solar-tasks/contract';
import { WaitTimeoutError } from './errors/wait-timeout-error.js';
import { HttpTransport, type TransportOptions } from './http-transport.js';

/** Options of {@link createClient}. */
export interface ClientOptions extends TransportOptions {
  /**
   * Give every enqueue that has no idempotency key a fresh one, so that a
   * POST repeated after a lost answer returns the first task instead of
   * queueing a second. With false, such enqueues are sent once and never
   * repeated. @defaultValue true
   */
  autoIdempotencyKey?: boolean;
}

/**
 * Per-call scheduling of {@link TaskClient.enqueue}: the REST body's fields
 * (snake_case, as the API and the Python client spell them). Left out, the
 * task's own defaults apply, then the deployment's.
 */
export type EnqueueOptions = Pick<
  EnqueueRequest,
  'priority' | 'max_retries' | 'retry_delay' | 'countdown' | 'idempotency_key'
> & {
  /** Run no earlier than this instant (a Date, or ISO-8601 with an offset). */
  eta?: Date | string;
  /** Aborts the call (not the task). */
  signal?: AbortSignal;
};

/** The answer to an enqueue: the API's body, typed by the task's name, and whether a task was created. */
export type EnqueueResult<Name extends string = string> = Omit<EnqueueResponse, 'task_name'> & {
  task_name: Name;
  /** False when the idempotency key matched a task queued earlier (HTTP 200 instead of 201). */
  created: boolean;
};

/** One entry of {@link TaskClient.list}. */
export type TaskType = TaskListResponse['tasks'][number];

/** Options of {@link TaskClient.wait}. */
export interface WaitOptions {
  /** Give up (with {@link WaitTimeoutError}) after this long. @defaultValue 60000 */
  timeoutMs?: number;
  /** First pause between polls, growing ×1.5 up to `maxIntervalMs`. @defaultValue 100 */
  intervalMs?: number;
  /** @defaultValue 1000 */
  maxIntervalMs?: number;
  signal?: AbortSignal;
}

/** Options of the calls that only read or act on one task. */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * A client of the Solar Tasks REST API. `enqueue` is typed by a task
 * contract, so a wrong or missing argument is a compile error; every answer
 * is parsed by the contract's response schema.
 */
export class TaskClient {
  readonly #http: HttpTransport;
  readonly #autoKey: boolean;

  constructor(options: ClientOptions) {
    this.#http = new HttpTransport(options);
    this.#autoKey = options.autoIdempotencyKey ?? true;
  }

  /** The API base URL (no trailing slash). */
  get baseUrl(): string {
    return this.#http.baseUrl;
  }

  /**
   * Queues `task` with `args` (sent as `kwargs`, bound by name). Resolves
   * with the task id once the task is safely in Redis.
   *
   * @example
   * await client.enqueue(sendEmail, { to: 'ann@example.com', subject: 'Hi', text: '…' }, { priority: 3 });
   */
  enqueue<T extends TaskDefinition>(
    task: T,
    args: TaskInput<T>,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult<TaskName<T>>> {
    const { signal, eta, ...rest } = options;
    const body: EnqueueRequest = { task_name: task.name, kwargs: args as Record<string, unknown>, ...rest };
    if (eta !== undefined) body.eta = eta instanceof Date ? eta.toISOString() : eta;
    return this.enqueueRaw(body, { signal }) as Promise<EnqueueResult<TaskName<T>>>;
  }

  /**
   * Queues a task from a raw REST body: any task name, positional `args`
   * and `kwargs` as the seed sent them. Nothing is checked at compile time;
   * the API validates and answers 400/422 naming the field.
   */
  async enqueueRaw(request: EnqueueRequest, options: CallOptions = {}): Promise<EnqueueResult> {
    const body: EnqueueRequest =
      request.idempotency_key === undefined && this.#autoKey
        ? { ...request, idempotency_key: randomUUID() }
        : request;
    const res = await this.#http.request({
      method: 'POST',
      path: '/api/tasks/enqueue/',
      body,
      schema: enqueueResponseSchema,
      // With a key the server returns the first task for a repeat: safe to send again.
      idempotent: body.idempotency_key !== undefined,
      signal: options.signal,
    });
    return { ...res.data, created: res.status === 201 };
  }

  /**
   * Queues up to 1,000 tasks in one request (`POST /api/tasks/enqueue-bulk/`),
   * all or nothing: one bad item is a `VALIDATION_ERROR` naming
   * `tasks[i].<field>` and nothing is queued. Results come back in order, each
   * with `created`. Items without an idempotency key get a fresh one (unless
   * `autoIdempotencyKey` is false), so a request repeated after a lost answer
   * returns the same tasks instead of queueing them twice.
   */
  async enqueueBulkRaw(
    requests: readonly EnqueueRequest[],
    options: CallOptions = {},
  ): Promise<(EnqueueResult & { created: boolean })[]> {
    const tasks = requests.map((r) =>
      r.idempotency_key === undefined && this.#autoKey ? { ...r, idempotency_key: randomUUID() } : r,
    );
    const res = await this.#http.request({
      method: 'POST',
      path: '/api/tasks/enqueue-bulk/',
      body: { tasks },
      schema: enqueueBulkResponseSchema,
      idempotent: tasks.every((t) => t.idempotency_key !== undefined),
      signal: options.signal,
    });
    return res.data.tasks;
  }

  /** The task's status. Throws `TASK_NOT_FOUND` (404) for an unknown id. */
  async status(taskId: string, options: CallOptions = {}): Promise<TaskStatusResponse> {
    const res = await this.#http.request({
      method: 'GET',
      path: `/api/tasks/status/${taskPath(taskId)}/`,
      schema: taskStatusResponseSchema,
      idempotent: true,
      signal: options.signal,
    });
    return res.data;
  }

  /**
   * Polls the task's status until it is `completed`, `failed` or
   * `cancelled`, and returns that status (a failed task is returned, not
   * thrown). Throws {@link WaitTimeoutError} after `timeoutMs`.
   */
  async wait(taskId: string, options: WaitOptions = {}): Promise<TaskStatusResponse> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const maxIntervalMs = options.maxIntervalMs ?? 1_000;
    let interval = options.intervalMs ?? 100;
    if (!(timeoutMs >= 0)) throw new RangeError(`timeoutMs must be ≥ 0, got ${timeoutMs}`);
    if (!(interval > 0)) throw new RangeError(`intervalMs must be > 0, got ${interval}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status(taskId, { signal: options.signal });
      if (isFinalStatus(status.status)) return status;
      const left = deadline - Date.now();
      if (left <= 0) throw new WaitTimeoutError(taskId, timeoutMs, status);
      await sleep(Math.min(interval, left), undefined, { signal: options.signal });
      interval = Math.min(interval * 1.5, maxIntervalMs);
    }
  }

  /** Every task type the API knows: description, queue, parameter order, defaults, JSON Schema. */
  async list(options: CallOptions = {}): Promise<TaskType[]> {
    const res = await this.#http.request({
      method: 'GET',
      path: '/api/tasks/list/',
      schema: taskListResponseSchema,
      idempotent: true,
      signal: options.signal,
    });
    return res.data.tasks;
  }

  /** Counts per queue and status, and lifetime totals per task name. */
  async queueStatus(options: CallOptions = {}): Promise<QueueStatusResponse> {
    const res = await this.#http.request({
      method: 'GET',
      path: '/api/tasks/queue-status/',
      schema: queueStatusResponseSchema,
      idempotent: true,
      signal: options.signal,
    });
    return res.data;
  }

  /**
   * Cancels a task that has not finished (a running one has its handler's
   * signal aborted) and returns its status. Cancelling twice is harmless, so
   * this is repeated on connection errors. `TASK_NOT_CANCELLABLE` (409) once
   * the task completed or failed.
   */
  async cancel(taskId: string, options: CallOptions = {}): Promise<TaskStatusResponse> {
    const res = await this.#http.request({
      method: 'POST',
      path: `/api/tasks/${taskPath(taskId)}/cancel/`,
      schema: taskStatusResponseSchema,
      idempotent: true,
      signal: options.signal,
    });
    return res.data;
  }

  /**
   * Runs a failed or cancelled task again from scratch and returns its
   * status; `TASK_NOT_RETRYABLE` (409) otherwise. Sent once: a repeat after a
   * lost answer would be refused as the task is no longer failed.
   */
  async retry(taskId: string, options: CallOptions = {}): Promise<TaskStatusResponse> {
    const res = await this.#http.request({
      method: 'POST',
      path: `/api/tasks/${taskPath(taskId)}/retry/`,
      schema: taskStatusResponseSchema,
      idempotent: false,
      signal: options.signal,
    });
    return res.data;
  }
}

/** Creates a {@link TaskClient}; options are checked here, so a bad URL or key fails at start-up. */
export function createClient(options: ClientOptions): TaskClient {
  return new TaskClient(options);
}

/**
 * An id as one path segment: a `/` in it is escaped, and `.`/`..` (which URL
 * parsing would resolve, even escaped) are refused, so no id reaches another route.
 */
function taskPath(taskId: string): string {
  if (typeof taskId !== 'string' || taskId === '' || taskId === '.' || taskId === '..')
    throw new TypeError('taskId must be a task id (a UUID the API returned)');
  return encodeURIComponent(taskId);
}
