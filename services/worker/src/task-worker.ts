import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { formatPath } from '@solar-tasks/contract';
import { failureReason, type RedisClient, type TaskJobData, type TaskQueue } from '@solar-tasks/queue';
import { type LineValue, type Logger, lineWriter } from '@solar-tasks/runtime';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { PermanentTaskError } from './errors/permanent-task-error.js';
import { TaskTimeoutError } from './errors/task-timeout-error.js';
import type { TaskContext, TaskRegistry } from './task-registry.js';

/** Options of {@link TaskWorker}; defaults are filled and checked at construction. */
export interface TaskWorkerOptions {
  /** The task queue (its connection should be a `worker`-role one). */
  queue: TaskQueue;
  /** A `worker`-role connection (`maxRetriesPerRequest: null`); BullMQ duplicates it for blocking reads. */
  connection: RedisClient;
  registry: TaskRegistry;
  logger: Logger;
  /** Queues to serve. @defaultValue every queue of the catalog */
  queues?: readonly string[];
  /** Tasks run at once, per queue. @defaultValue 10 */
  concurrency?: number;
  /** Job lock duration; a dead worker's tasks return after about this long. @defaultValue 30000 */
  lockDurationMs?: number;
  /** Stalled-job check interval. @defaultValue 30000 */
  stalledIntervalMs?: number;
  /** Recoveries from dead workers before a task is failed as poison. @defaultValue 2 */
  maxStalledCount?: number;
  /** How long `close()` waits for running tasks before handing them back. @defaultValue 25000 */
  shutdownGraceMs?: number;
  /** How often this worker tells Redis it is online (`workers online` in metrics). @defaultValue 5000 */
  presenceIntervalMs?: number;
}

/** The fields of the `task started` and `task completed` lines. */
const STARTED_FIELDS = ['task_id', 'task', 'queue', 'attempt', 'max_attempts'] as const;
const COMPLETED_FIELDS = ['task_id', 'task', 'queue', 'attempt', 'duration_ms'] as const;

/** Why an attempt's signal was aborted. */
class AbortReason extends Error {
  constructor(
    readonly kind: 'cancelled' | 'shutdown',
    message: string,
  ) {
    super(message);
  }
}

/** Events a TaskWorker emits (tests and metrics listen). */
export interface TaskWorkerEvents {
  'task:started': [info: { taskId: string; taskName: string; attempt: number }];
  'task:completed': [info: { taskId: string; taskName: string; attempt: number; durationMs: number }];
  'task:failed': [
    info: { taskId: string; taskName: string; attempt: number; error: string; willRetry: boolean },
  ];
}

/**
 * Runs tasks from BullMQ queues: one BullMQ `Worker` per served queue. Each
 * attempt is validated against its contract, given a context with an abort
 * signal, bounded by the task's timeout, logged and counted. BullMQ does the
 * rest: locks, retries with backoff, stalled-job recovery.
 */
export class TaskWorker extends EventEmitter<TaskWorkerEvents> {
  readonly queues: readonly string[];
  readonly #opts: Required<Omit<TaskWorkerOptions, 'queues'>>;
  readonly #workers: Worker<TaskJobData>[] = [];
  readonly #active = new Map<string, AttemptControl>();
  #subscriber: RedisClient | undefined;
  #shuttingDown = false;
  readonly #handedBack: string[] = [];
  #closing: Promise<{ handedBack: string[] }> | undefined;
  /** This process's id in the online-workers set. */
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  #presenceTimer: NodeJS.Timeout | undefined;
  #beating = false;
  /** The lines every task writes: our own fields only, so written without pino's generic path. */
  readonly #startedLine: (values: Readonly<Record<(typeof STARTED_FIELDS)[number], LineValue>>) => void;
  readonly #completedLine: (values: Readonly<Record<(typeof COMPLETED_FIELDS)[number], LineValue>>) => void;

  constructor(options: TaskWorkerOptions) {
    super();
    const opts = {
      concurrency: 10,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      maxStalledCount: 2,
      shutdownGraceMs: 25_000,
      presenceIntervalMs: 5000,
      ...stripUndefined(options),
    };
    for (const key of ['concurrency', 'lockDurationMs', 'stalledIntervalMs', 'presenceIntervalMs'] as const) {
      if (!(Number.isInteger(opts[key]) && opts[key] > 0))
        throw new RangeError(`${key} must be a positive integer, got ${opts[key]}`);
    }
    if (!(opts.maxStalledCount >= 0))
      throw new RangeError(`maxStalledCount must be >= 0, got ${opts.maxStalledCount}`);
    if (!(opts.shutdownGraceMs >= 0))
      throw new RangeError(`shutdownGraceMs must be >= 0, got ${opts.shutdownGraceMs}`);
    this.#opts = opts;
    this.#startedLine = lineWriter(opts.logger, 'debug', 'task started', STARTED_FIELDS);
    this.#completedLine = lineWriter(opts.logger, 'info', 'task completed', COMPLETED_FIELDS);
    this.queues =
      options.queues && options.queues.length > 0 ? [...options.queues] : options.queue.catalog.queues();
    options.registry.assertCovers(options.queue.catalog, this.queues);
  }

  /** Starts consuming; resolves once every queue's worker is connected. */
  async start(): Promise<void> {
    const { connection, queue, concurrency, lockDurationMs, stalledIntervalMs, maxStalledCount, logger } =
      this.#opts;
    for (const name of this.queues) {
      const worker = new Worker<TaskJobData>(
        name,
        // Two parameters on purpose: BullMQ makes an AbortController per job for a processor
        // that takes a third (its signal), and only its cancelJob() would abort it, which we
        // never call: cancels, timeouts and shutdown go through our own AttemptControl.
        (job, token) => this.#process(job, token),
        {
          connection,
          prefix: queue.keys.queuePrefix(name),
          concurrency,
          lockDuration: lockDurationMs,
          stalledInterval: stalledIntervalMs,
          maxStalledCount,
          autorun: false,
          name: `solar-worker-${process.pid}`,
        },
      );
      worker.on('completed', (job) => this.#onCompleted(job));
      worker.on('failed', (job, err) => this.#onFailed(job, err));
      worker.on('error', (err) => logger.error({ err, queue: name }, 'worker error'));
      worker.on('stalled', (jobId) =>
        logger.warn(
          { task_id: jobId, queue: name },
          'task stalled: its worker died or hung; it was sent back to the queue',
        ),
      );
      this.#workers.push(worker);
    }
    await this.#subscribeToCancels();
    await Promise.all(this.#workers.map((w) => w.waitUntilReady()));
    for (const worker of this.#workers) void worker.run();
    await this.#beat();
    this.#presenceTimer = setInterval(() => void this.#beat(), this.#opts.presenceIntervalMs);
    this.#presenceTimer.unref();
    logger.info({ queues: this.queues, concurrency, worker_id: this.workerId }, 'worker started');
  }

  /**
   * Heartbeat in Redis; a missed one only makes the worker look offline for a
   * while. One at a time: while Redis is away the worker connection queues
   * commands, and beats must not pile up behind each other.
   */
  async #beat(): Promise<void> {
    if (this.#beating) return;
    this.#beating = true;
    try {
      await this.#opts.queue.presence.beat(this.workerId);
    } catch (err) {
      this.#opts.logger.debug({ err: (err as Error).message }, 'worker heartbeat not written');
    } finally {
      this.#beating = false;
    }
  }

  /** Ids of tasks running in this process now. */
  activeTaskIds(): string[] {
    return [...this.#active.keys()];
  }

  /** Stops taking new tasks (running ones go on). */
  async pause(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.pause(true)));
  }

  async resume(): Promise<void> {
    for (const w of this.#workers) w.resume();
  }

  /**
   * Graceful stop: take no new tasks, let running ones finish for up to the
   * grace period, then hand the rest back to the queue (they run again,
   * elsewhere, without losing an attempt) and disconnect.
   */
  close(graceMs = this.#opts.shutdownGraceMs): Promise<{ handedBack: string[] }> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<{ handedBack: string[] }> {
    const { logger } = this.#opts;
    this.#shuttingDown = true;
    clearInterval(this.#presenceTimer);
    if (this.#active.size > 0)
      logger.info(
        { running: this.#active.size, grace_ms: graceMs },
        'shutting down: waiting for running tasks',
      );
    // BullMQ's close stops fetching and waits for the running jobs.
    const closing = Promise.all(this.#workers.map((w) => w.close()));
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      closing.then(() => true),
      new Promise<false>((r) => {
        timer = setTimeout(() => r(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      // Each processor hands its task back (see #process) and BullMQ's close completes.
      for (const task of this.#active.values())
        task.abort(new AbortReason('shutdown', 'worker shutting down'));
      await closing;
    }
    if (this.#handedBack.length > 0)
      logger.warn({ task_ids: this.#handedBack }, 'handed running tasks back to the queue');
    // Bounded: with Redis away the worker connection would wait for it forever; the id then
    // simply ages out of the online set.
    await Promise.race([
      this.#opts.queue.presence.leave(this.workerId).catch(() => {}),
      new Promise((r) => setTimeout(r, 1000).unref()),
    ]);
    await this.#subscriber?.quit().catch(() => {});
    logger.info('worker stopped');
    return { handedBack: [...this.#handedBack] };
  }

  /**
   * Returns a task to the waiting list without counting an attempt, and tells
   * BullMQ so (a `WaitingError`), the way BullMQ documents manual moves.
   */
  async #handBack(job: Job<TaskJobData>, token: string | undefined): Promise<never> {
    await job.moveToWait(token);
    this.#handedBack.push(job.id!);
    this.#taskLog(job).info('task handed back to the queue (worker shutting down)');
    throw new WaitingError();
  }

  async #subscribeToCancels(): Promise<void> {
    const { connection, queue, logger } = this.#opts;
    // A Cluster's duplicate subscribes the same way (PUBLISH reaches every node);
    // it is typed as Redis because the union's overloaded methods are not callable.
    const subscriber = (connection as Redis).duplicate();
    subscriber.on('error', (err) => logger.warn({ err }, 'cancel subscriber error'));
    subscriber.on('message', (_channel, message: string) => {
      let taskId: string | undefined;
      let reason = 'cancelled by user';
      try {
        const parsed = JSON.parse(message) as { task_id?: unknown; reason?: unknown };
        if (typeof parsed.task_id === 'string') taskId = parsed.task_id;
        if (typeof parsed.reason === 'string') reason = parsed.reason;
      } catch {
        return;
      }
      const task = taskId ? this.#active.get(taskId) : undefined;
      if (task) {
        this.#taskLog(task.job).info({ reason }, 'cancelling running task');
        task.abort(new AbortReason('cancelled', reason));
      }
    });
    await subscriber.subscribe(queue.cancelChannel);
    this.#subscriber = subscriber;
  }

  async #process(job: Job<TaskJobData>, token?: string): Promise<unknown> {
    const { registry, queue, logger } = this.#opts;
    const taskId = job.id!;
    // BullMQ may hand us a job it fetched just as we began to close: give it back untouched.
    if (this.#shuttingDown) return this.#handBack(job, token);
    const attempt = job.attemptsMade + 1;
    const entry = registry.get(job.name);
    if (!entry) {
      // A newer release queued a task this process does not know (rolling deploy): retry by policy.
      throw new Error(`no handler for task "${job.name}" in this worker`);
    }
    const data = job.data;
    if (data?.cancelled) throw new UnrecoverableError(`cancelled: ${data.cancelled.reason}`);
    const parsed = entry.definition.args.safeParse(data?.args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new UnrecoverableError(
        `invalid payload for ${job.name}: ${formatPath(issue.path) || 'args'}: ${issue.message}`,
      );
    }

    const attemptControl = new AttemptControl(job);
    this.#active.set(taskId, attemptControl);
    const context = new AttemptContext(job, attempt, attemptControl, logger, queue);
    const timeoutSeconds = data.timeout ?? entry.definition.defaults.timeout ?? 30;
    // Listened to by tests and the CLI's progress only: no event object per task without one.
    if (this.listenerCount('task:started') > 0)
      this.emit('task:started', { taskId, taskName: job.name, attempt });
    // At debug: at info the attempt's end line (completed, failed, retried) carries the same
    // fields, and a second line per task costs a no-op task a quarter of its throughput.
    if (logger.isLevelEnabled('debug'))
      this.#startedLine({
        task_id: taskId,
        task: job.name,
        queue: job.queueName,
        attempt,
        max_attempts: job.opts.attempts ?? 1,
      });
    try {
      return await attemptControl.run(entry.handler, parsed.data, context, timeoutSeconds);
    } catch (err) {
      if (err instanceof PermanentTaskError) throw new UnrecoverableError(err.message);
      if (err instanceof AbortReason && err.kind === 'cancelled')
        throw new UnrecoverableError(`cancelled: ${err.message}`);
      if (err instanceof AbortReason && err.kind === 'shutdown') return this.#handBack(job, token);
      throw err;
    } finally {
      attemptControl.settle();
      this.#active.delete(taskId);
    }
  }

  #onCompleted(job: Job<TaskJobData>): void {
    const durationMs = job.finishedOn && job.processedOn ? job.finishedOn - job.processedOn : 0;
    const attempt = job.attemptsMade;
    const { counters, metrics } = this.#opts.queue;
    counters.increment(job.name, 'completed');
    metrics.observeRun(job.name, durationMs);
    metrics.countOutcome('completed');
    this.#completedLine({
      task_id: job.id,
      task: job.name,
      queue: job.queueName,
      attempt,
      duration_ms: durationMs,
    });
    if (this.listenerCount('task:completed') > 0)
      this.emit('task:completed', { taskId: job.id!, taskName: job.name, attempt, durationMs });
  }

  /** The logger of one task's lines: every one carries `task_id`, `task` and `queue`. */
  #taskLog(job: Job<TaskJobData>): Logger {
    return this.#opts.logger.child({ task_id: job.id, task: job.name, queue: job.queueName });
  }

  #onFailed(job: Job<TaskJobData> | undefined, err: Error): void {
    if (!job) return;
    const willRetry = job.finishedOn === undefined;
    const attempt = job.attemptsMade;
    this.#opts.queue.counters.increment(job.name, willRetry ? 'retried' : 'failed');
    this.#opts.queue.metrics.countOutcome(willRetry ? 'retried' : 'failed');
    const error =
      failureReason({ failedReason: err.message, stalledCounter: job.stalledCounter }) ?? err.message;
    const log = this.#taskLog(job);
    const line = { attempt, error, will_retry: willRetry };
    if (willRetry) log.warn(line, 'task attempt failed; retry scheduled');
    else if (err.message.startsWith('cancelled:')) log.info(line, 'task cancelled');
    else log.error(line, 'task failed');
    this.emit('task:failed', { taskId: job.id!, taskName: job.name, attempt, error, willRetry });
  }
}

/**
 * One running attempt and its cancellation: a timeout, a cancel or a shutdown
 * aborts it. The handler's `AbortSignal` is only made if the handler reads it
 * (most no-op-like handlers never do, and an AbortController per task is a
 * visible share of its cost); aborting rejects the running attempt at once
 * either way, so a handler that never returns cannot hold its slot past its
 * timeout.
 */
class AttemptControl {
  #controller: AbortController | undefined;
  #reason: unknown;
  #aborted = false;
  #reject: ((reason: unknown) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** The job, for the lines of a cancel. */
  constructor(readonly job: Job<TaskJobData>) {}

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#reject?.(reason);
  }

  /**
   * Runs the handler and settles with it, unless the attempt is aborted first
   * (then rejects with the reason). The timeout only starts for a handler that
   * returns a promise: a synchronous one has already finished. Not `async`
   * and no closures: it runs for every task, and each would be one more
   * allocation per task.
   */
  run<A, T>(
    handler: (args: A, context: TaskContext) => T | Promise<T>,
    args: A,
    context: TaskContext,
    timeoutSeconds: number,
  ): T | Promise<T> {
    if (this.#aborted) throw this.#reason;
    const result = handler(args, context);
    if (!isPromiseLike(result)) return result;
    // A handler that settles after losing the race must not be "unhandled": the
    // callbacks below stay attached, and settling an already-settled promise is a no-op.
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      if (this.#aborted) reject(this.#reason); // aborted while the handler ran synchronously
      this.#timer = setTimeout(abortOnTimeout, timeoutSeconds * 1000, this, timeoutSeconds);
      result.then(resolve, reject);
    });
  }

  /** The attempt is over: stop its timer. */
  settle(): void {
    clearTimeout(this.#timer);
    this.#reject = undefined;
  }
}

function abortOnTimeout(control: AttemptControl, timeoutSeconds: number): void {
  control.abort(new TaskTimeoutError(timeoutSeconds));
}

/**
 * The {@link TaskContext} of one attempt. A class, so its lazy parts are
 * getters on the prototype rather than closures made per task: the child
 * logger is made on first use (most handlers never log, and a pino child per
 * task is a measurable share of a no-op task's cost), the signal too.
 */
class AttemptContext implements TaskContext {
  readonly taskId: string;
  readonly taskName: string;
  readonly attempt: number;
  readonly maxRetries: number;
  readonly queue: TaskQueue;
  readonly #queueName: string;
  readonly #control: AttemptControl;
  readonly #parentLogger: Logger;
  #log: Logger | undefined;

  constructor(
    job: Job<TaskJobData>,
    attempt: number,
    control: AttemptControl,
    logger: Logger,
    queue: TaskQueue,
  ) {
    this.taskId = job.id!;
    this.taskName = job.name;
    this.attempt = attempt;
    this.maxRetries = (job.opts.attempts ?? 1) - 1;
    this.queue = queue;
    this.#queueName = job.queueName;
    this.#control = control;
    this.#parentLogger = logger;
  }

  get logger(): Logger {
    this.#log ??= this.#parentLogger.child({
      task_id: this.taskId,
      task: this.taskName,
      queue: this.#queueName,
      attempt: this.attempt,
    });
    return this.#log;
  }

  get signal(): AbortSignal {
    return this.#control.signal;
  }
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
