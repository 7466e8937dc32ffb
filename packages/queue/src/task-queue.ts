import {
  bindArguments,
  type EnqueueOverrides,
  type EnqueuePlan,
  EnqueuePlanError,
  planEnqueue,
  type QueueCounts,
  type QueueStatusResponse,
  TaskApiError,
  type TaskCatalog,
  type TaskDefaults,
  type TaskDefinition,
  type TaskPageResponse,
  type TaskStatus,
  type TaskStatusResponse,
  taskIdSchema,
} from '@solar-tasks/contract';
import { randomUuid } from '@solar-tasks/runtime';
import { type Job, type JobState, type JobsOptions, Queue } from 'bullmq';
import { Cluster, type Redis } from 'ioredis';
import { oldestPendingAgeSeconds } from './queue-age.js';
import type { RedisClient } from './redis-connection.js';
import { type RedisKeys, redisKeys } from './redis-keys.js';
import { type CleanupOptions, type CleanupResult, cleanupTasks } from './task-cleanup.js';
import { TaskCounters } from './task-counters.js';
import { fingerprint, type TaskJobData, taskIdForIdempotencyKey, toStatusResponse } from './task-job.js';
import { type ListTasksOptions, listTasks } from './task-listing.js';
import { TaskMetrics } from './task-metrics.js';
import { WorkerPresence } from './worker-presence.js';

/** A request to enqueue one task: the REST body's fields. */
export interface EnqueueInput extends EnqueueOverrides {
  task_name: string;
  args?: readonly unknown[];
  kwargs?: Readonly<Record<string, unknown>>;
  idempotency_key?: string | undefined;
}

/** The outcome of an enqueue. `created` is false when an idempotency key matched an existing task. */
export interface EnqueueResult {
  taskId: string;
  taskName: string;
  status: TaskStatus;
  created: boolean;
}

/** Options of {@link TaskQueue}; defaults are filled and checked at construction. */
export interface TaskQueueOptions {
  /** A connection made by `createRedisConnection` (role `api` or `worker`; one server, Sentinel or Cluster). */
  connection: RedisClient;
  /** Deployment key prefix (`REDIS_PREFIX`). */
  prefix: string;
  /** The task types this deployment accepts. */
  catalog: TaskCatalog;
  /** Deployment defaults (`TASK_DEFAULT_*`). */
  defaults?: Partial<TaskDefaults>;
  /** Days finished tasks stay queryable (`TASK_CLEANUP_DAYS`). @defaultValue 7 */
  retentionDays?: number;
  /** Largest serialized arguments of one task, in bytes. @defaultValue 65536 */
  maxArgsBytes?: number;
  /** Counter (and run-time/throughput metrics) flush interval. @defaultValue 1000 ms */
  countersFlushMs?: number;
  /** A worker not seen for this long counts as offline. @defaultValue 15000 */
  workerTtlMs?: number;
  /**
   * Replicas that must confirm an enqueue (Redis `WAIT`) before it is
   * acknowledged, so a failover cannot lose it (`REDIS_WAIT_REPLICAS`).
   * Not for Cluster connections. @defaultValue 0 (don't wait)
   */
  waitReplicas?: number;
  /** How long to wait for them (`REDIS_WAIT_TIMEOUT_MS`). @defaultValue 500 */
  waitTimeoutMs?: number;
}

/** Everything an enqueue needs, computed without touching Redis. */
interface PreparedTask {
  def: TaskDefinition;
  jobId: string;
  data: TaskJobData;
  opts: JobsOptions;
  plan: EnqueuePlan;
}

/** A located job, the queue it lives in, its state and (when delayed) its due time. */
interface FoundJob {
  job: Job<TaskJobData>;
  queue: Queue<TaskJobData>;
  queueName: string;
  state: JobState | 'unknown';
  runAt: number | null;
}

/**
 * A BullMQ queue whose single adds skip BullMQ's telemetry wrapper (`add`
 * runs `addJob` inside an `async` closure and builds a span name, per call):
 * this system configures no BullMQ telemetry.
 */
class TaskBullQueue extends Queue<TaskJobData> {
  /** BullMQ's `addJob`: `add` without telemetry (a protected method, meant for subclasses). */
  addUntraced(name: string, data: TaskJobData, opts: JobsOptions): Promise<Job<TaskJobData>> {
    return this.addJob(name, data, opts);
  }
}

/**
 * The task queue on BullMQ: enqueue, status, cancel, retry, counts. One
 * BullMQ queue per contract queue name, all under the deployment prefix.
 * Status lookups by id read the job's hash directly; nothing scans jobs.
 */
export class TaskQueue {
  readonly catalog: TaskCatalog;
  readonly prefix: string;
  readonly counters: TaskCounters;
  /** Run-time histograms and per-minute throughput, shared by every process. */
  readonly metrics: TaskMetrics;
  /** Worker heartbeats: which workers are online. */
  readonly presence: WorkerPresence;
  /** The deployment's Redis names (queue prefixes, counters, cancel channel). */
  readonly keys: RedisKeys;
  readonly #redis: RedisClient;
  readonly #queues = new Map<string, TaskBullQueue>();
  readonly #defaults: Partial<TaskDefaults>;
  /** Finished jobs' retention, one object shared by every job's options (BullMQ only reads it). */
  readonly #retention: { age: number };
  readonly #maxArgsBytes: number;
  readonly #waitReplicas: number;
  readonly #waitTimeoutMs: number;

  constructor(options: TaskQueueOptions) {
    const retentionDays = options.retentionDays ?? 7;
    if (!(retentionDays > 0)) throw new RangeError(`retentionDays must be > 0, got ${retentionDays}`);
    const maxArgsBytes = options.maxArgsBytes ?? 64 * 1024;
    if (!(maxArgsBytes > 0)) throw new RangeError(`maxArgsBytes must be > 0, got ${maxArgsBytes}`);
    if (!options.prefix) throw new TypeError('prefix must not be empty');
    const waitReplicas = options.waitReplicas ?? 0;
    if (!(Number.isInteger(waitReplicas) && waitReplicas >= 0))
      throw new RangeError(`waitReplicas must be a whole number >= 0, got ${waitReplicas}`);
    const waitTimeoutMs = options.waitTimeoutMs ?? 500;
    if (!(waitTimeoutMs > 0)) throw new RangeError(`waitTimeoutMs must be > 0, got ${waitTimeoutMs}`);
    if (waitReplicas > 0 && options.connection instanceof Cluster)
      throw new TypeError('waitReplicas is not supported on a Cluster connection');
    this.catalog = options.catalog;
    this.prefix = options.prefix;
    this.keys = redisKeys(options.prefix);
    this.#waitReplicas = waitReplicas;
    this.#waitTimeoutMs = waitTimeoutMs;
    this.#redis = options.connection;
    this.#defaults = options.defaults ?? {};
    this.#retention = Object.freeze({ age: Math.round(retentionDays * 86_400) });
    this.#maxArgsBytes = maxArgsBytes;
    this.counters = new TaskCounters(this.#redis, {
      key: this.keys.counters,
      flushIntervalMs: options.countersFlushMs,
    });
    this.metrics = new TaskMetrics(this.#redis, {
      runtimeKey: this.keys.taskRuntime,
      throughputKeyPrefix: this.keys.throughput,
      flushIntervalMs: options.countersFlushMs,
    });
    this.presence = new WorkerPresence(this.#redis, { key: this.keys.workers, ttlMs: options.workerTtlMs });
    for (const name of this.catalog.queues()) {
      const queue = new TaskBullQueue(name, {
        connection: this.#redis,
        prefix: this.keys.queuePrefix(name),
      });
      // These are the shared connection's errors, which its creator already
      // logs (once per distinct error). Unheard, BullMQ prints every one of
      // them to stderr, once per queue, for as long as Redis is away.
      queue.on('error', () => {});
      this.#queues.set(name, queue);
    }
  }

  /** Queue names this deployment uses. */
  queueNames(): string[] {
    return [...this.#queues.keys()];
  }

  /** The BullMQ queue behind a contract queue name (for workers, dashboards and maintenance). */
  bullQueue(name: string): Queue<TaskJobData> {
    return this.#bullQueue(name);
  }

  #bullQueue(name: string): TaskBullQueue {
    const q = this.#queues.get(name);
    if (!q) throw new TypeError(`unknown queue "${name}"; known: ${this.queueNames().join(', ')}`);
    return q;
  }

  /** Resolves once every queue's connection is ready. */
  async waitUntilReady(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.waitUntilReady()));
  }

  /** True when Redis answers PING. */
  async ping(): Promise<boolean> {
    try {
      return (await this.#redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  /**
   * Validates and queues one task. Throws {@link TaskApiError}: `UNKNOWN_TASK`,
   * `INVALID_ARGUMENTS`, `VALIDATION_ERROR`, `PAYLOAD_TOO_LARGE`,
   * `IDEMPOTENCY_CONFLICT`. Nothing is written unless all checks pass.
   */
  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const prepared = this.prepare(input);
    this.#assertConnected();
    if (prepared.data.idempotency_key !== undefined) {
      const existing = await this.#find(prepared.jobId);
      if (existing) {
        const result = await this.#matchExisting(existing, prepared);
        // A retry after a 503 from WAIT finds the task; it is acknowledged
        // only once replicated, like a new one.
        await this.#waitForReplicas(result.taskId);
        return result;
      }
    }
    await this.#bullQueue(prepared.def.queue).addUntraced(prepared.def.name, prepared.data, prepared.opts);
    if (this.#waitReplicas > 0) await this.#waitForReplicas(prepared.jobId);
    this.counters.increment(prepared.def.name, 'enqueued');
    return {
      taskId: prepared.jobId,
      taskName: prepared.def.name,
      status: prepared.plan.delayMs > 0 ? 'scheduled' : 'pending',
      created: true,
    };
  }

  /**
   * Validates and queues many tasks, all or nothing: every item is checked
   * first and any problem throws one {@link TaskApiError} (`VALIDATION_ERROR`,
   * each detail's `field` prefixed `tasks[i].`) before anything is written.
   * New tasks go in with one BullMQ `addBulk` per queue, sent together (one
   * round trip); items with an idempotency key are looked up first, in one
   * pipelined round trip, and an item whose key was seen answers the existing
   * task (`created: false`) or throws `IDEMPOTENCY_CONFLICT` when it differs.
   * Results are in input order.
   */
  async enqueueBulk(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    const now = Date.now();
    const prepared: PreparedTask[] = [];
    const problems: { field: string; message: string; code: string }[] = [];
    const keyed = new Map<string, number>();
    inputs.forEach((input, i) => {
      try {
        const p = this.prepare(input, now);
        const first = p.data.idempotency_key !== undefined ? keyed.get(p.jobId) : undefined;
        if (first !== undefined && !samePrepared(prepared[first]!, p)) {
          problems.push({
            field: `tasks[${i}].idempotency_key`,
            message: `the same idempotency key as tasks[${first}] with a different task or arguments`,
            code: 'IDEMPOTENCY_CONFLICT',
          });
        } else if (p.data.idempotency_key !== undefined && first === undefined) keyed.set(p.jobId, i);
        prepared.push(p);
      } catch (err) {
        if (!(err instanceof TaskApiError)) throw err;
        for (const d of itemProblems(err)) problems.push({ ...d, field: `tasks[${i}].${d.field}` });
      }
    });
    if (problems.length) {
      throw new TaskApiError(
        'VALIDATION_ERROR',
        `${problems.length} problem(s) in the batch, nothing was queued; first: ${problems[0]!.field}: ${problems[0]!.message}`,
        problems,
      );
    }
    this.#assertConnected();

    // Items whose key was seen before (or earlier in this batch) answer the task that has it.
    const results: (EnqueueResult | undefined)[] = new Array(prepared.length);
    if (keyed.size > 0) {
      const pipeline = this.#redis.pipeline();
      const ids = [...keyed.keys()];
      for (const id of ids) {
        const p = prepared[keyed.get(id)!]!;
        pipeline.exists(this.bullQueue(p.def.queue).toKey(id));
      }
      const found = ((await pipeline.exec()) ?? []).map(([err, n]) => {
        if (err) throw err;
        return n === 1;
      });
      for (const [j, id] of ids.entries()) {
        if (!found[j]) continue;
        const index = keyed.get(id)!;
        const existing = await this.#find(id);
        if (!existing) continue;
        try {
          results[index] = await this.#matchExisting(existing, prepared[index]!);
        } catch (err) {
          if (!(err instanceof TaskApiError) || err.code !== 'IDEMPOTENCY_CONFLICT') throw err;
          throw new TaskApiError('IDEMPOTENCY_CONFLICT', `tasks[${index}]: ${err.message}`, {
            ...(err.details as object),
            field: `tasks[${index}].idempotency_key`,
          });
        }
      }
    }

    const byQueue = new Map<string, { name: string; data: TaskJobData; opts: JobsOptions }[]>();
    const added = new Set<string>();
    prepared.forEach((p, i) => {
      if (results[i] || added.has(p.jobId)) return;
      added.add(p.jobId);
      let list = byQueue.get(p.def.queue);
      if (!list) {
        list = [];
        byQueue.set(p.def.queue, list);
      }
      list.push({ name: p.def.name, data: p.data, opts: p.opts });
    });
    await Promise.all([...byQueue].map(([name, jobs]) => this.bullQueue(name).addBulk(jobs)));
    await this.#waitForReplicas(prepared[0]?.jobId ?? '');

    const seen = new Map<string, EnqueueResult>();
    return prepared.map((p, i) => {
      const earlier = results[i] ?? seen.get(p.jobId);
      if (earlier) return { ...earlier, created: false };
      const result: EnqueueResult = {
        taskId: p.jobId,
        taskName: p.def.name,
        status: p.plan.delayMs > 0 ? 'scheduled' : 'pending',
        created: true,
      };
      this.counters.increment(p.def.name, 'enqueued');
      seen.set(p.jobId, result);
      return result;
    });
  }

  /**
   * With `waitReplicas`, holds the acknowledgement until that many replicas
   * have the write (WAIT runs on the connection that sent it). Short of
   * them, the caller gets a 503: the task may exist on the master only, and
   * retrying with the same idempotency key finds it instead of queueing twice.
   */
  async #waitForReplicas(taskId: string): Promise<void> {
    if (this.#waitReplicas === 0) return;
    const acked = await (this.#redis as Redis).wait(this.#waitReplicas, this.#waitTimeoutMs);
    if (acked < this.#waitReplicas) {
      throw new TaskApiError(
        'QUEUE_UNAVAILABLE',
        `the task was not confirmed by ${this.#waitReplicas} Redis replica(s) within ${this.#waitTimeoutMs} ms; retry with the same idempotency key`,
        { task_id: taskId, replicas_confirmed: acked, replicas_required: this.#waitReplicas },
      );
    }
  }

  /** Checks a request and computes its job, without I/O. Throws {@link TaskApiError}. */
  prepare(input: EnqueueInput, now = Date.now()): PreparedTask {
    const def = this.catalog.get(input.task_name);
    if (!def) {
      throw new TaskApiError('UNKNOWN_TASK', `unknown task "${input.task_name}"`, {
        field: 'task_name',
        known: this.catalog.names(),
      });
    }
    const bound = bindArguments(def.args, input.args ?? [], input.kwargs ?? {});
    if (!bound.ok) {
      throw new TaskApiError(
        'INVALID_ARGUMENTS',
        `invalid arguments for ${def.name}: ${bound.issues[0]!.field}: ${bound.issues[0]!.message}`,
        bound.issues,
      );
    }
    let plan: EnqueuePlan;
    try {
      plan = planEnqueue(def, input, this.#defaults, now);
    } catch (err) {
      if (err instanceof EnqueuePlanError) {
        throw new TaskApiError('VALIDATION_ERROR', err.message, [
          { field: err.field, message: err.message, code: 'custom' },
        ]);
      }
      throw err;
    }
    const args = bound.value as Record<string, unknown>;
    const size = Buffer.byteLength(JSON.stringify(args));
    if (size > this.#maxArgsBytes) {
      throw new TaskApiError(
        'PAYLOAD_TOO_LARGE',
        `arguments of ${def.name} are ${size} bytes; the limit is ${this.#maxArgsBytes}`,
        {
          field: 'args',
          size,
          limit: this.#maxArgsBytes,
        },
      );
    }
    const key = input.idempotency_key;
    const data: TaskJobData = { v: 1, args, timeout: plan.timeout };
    if (key !== undefined) {
      data.idempotency_key = key;
      data.fingerprint = fingerprint(def.name, args);
    }
    const jobId = key !== undefined ? taskIdForIdempotencyKey(key) : randomUuid();
    // Only what differs from BullMQ's defaults: every option is packed into the job's hash.
    const backoff: JobsOptions['backoff'] = {
      type: 'exponential',
      delay: Math.round(plan.retryDelay * 1000),
    };
    if (plan.jitter > 0) backoff.jitter = plan.jitter;
    const opts: JobsOptions = {
      jobId,
      priority: plan.priority,
      attempts: plan.maxRetries + 1,
      backoff,
      removeOnComplete: this.#retention,
      removeOnFail: this.#retention,
    };
    // A delayed task's due time counts from `now` (its eta was resolved against it); BullMQ stamps the others.
    if (plan.delayMs > 0) {
      opts.delay = plan.delayMs;
      opts.timestamp = now;
    }
    return { def, jobId, data, opts, plan };
  }

  async #matchExisting(existing: FoundJob, prepared: PreparedTask): Promise<EnqueueResult> {
    const { job } = existing;
    if (job.name !== prepared.def.name || job.data.fingerprint !== prepared.data.fingerprint) {
      throw new TaskApiError(
        'IDEMPOTENCY_CONFLICT',
        'this idempotency key was already used for a different task or different arguments',
        { field: 'idempotency_key', task_id: job.id },
      );
    }
    const status = this.#statusOfFound(existing);
    return { taskId: job.id!, taskName: job.name, status: status.status, created: false };
  }

  /** The status of a task, or undefined when no such task exists. Invalid ids throw `INVALID_TASK_ID`. */
  async getStatus(taskId: string): Promise<TaskStatusResponse | undefined> {
    assertTaskId(taskId);
    const found = await this.#find(taskId);
    return found ? this.#statusOfFound(found) : undefined;
  }

  #statusOfFound({ job, queueName, state, runAt }: FoundJob): TaskStatusResponse {
    return toStatusResponse(job, queueName, state, runAt);
  }

  /**
   * Locates a task: its state in every queue at once, then the job's hash
   * and due time from the queue that has it (two round trips, no scans).
   * The state is read before the hash, so a hash never looks older than its
   * state; a hash that finished after the state was read makes us read the
   * state again.
   */
  async #find(taskId: string): Promise<FoundJob | undefined> {
    const entries = [...this.#queues.entries()];
    const states = await Promise.all(entries.map(([, q]) => q.getJobState(taskId)));
    const index = states.findIndex((s) => s !== 'unknown');
    if (index < 0) return undefined;
    const [queueName, queue] = entries[index]!;
    const [job, score] = await Promise.all([
      queue.getJob(taskId) as Promise<Job<TaskJobData> | undefined>,
      this.#redis.zscore(queue.keys.delayed!, taskId),
    ]);
    if (!job?.name) return undefined;
    let state = states[index]!;
    if (job.finishedOn && state !== 'completed' && state !== 'failed')
      state = await queue.getJobState(taskId);
    const runAt = score === null ? null : Math.floor(Number(score) / 0x1000);
    return { job, queue, queueName, state, runAt };
  }

  /**
   * Cancels a task that has not finished. A waiting or delayed task is marked
   * and discarded, without running, when a worker reaches it; a running one is
   * marked and its worker is told to abort it (the handler's signal fires).
   * Cancelling a cancelled task is a no-op; a finished one is `TASK_NOT_CANCELLABLE`.
   */
  async cancel(taskId: string, reason = 'cancelled by user'): Promise<TaskStatusResponse> {
    const found = await this.#require(taskId);
    const before = this.#statusOfFound(found);
    if (before.status === 'cancelled') return before;
    if (before.status === 'completed' || before.status === 'failed') {
      throw new TaskApiError('TASK_NOT_CANCELLABLE', `task ${taskId} is ${before.status}`, {
        status: before.status,
      });
    }
    const { job } = found;
    await job.updateData({ ...job.data, cancelled: { at: new Date().toISOString(), reason } });
    if (before.status === 'scheduled' || before.status === 'retrying') {
      // Due now, so a worker discards it promptly instead of holding a delayed entry.
      await job.promote().catch(() => {});
    }
    await this.#redis.publish(this.cancelChannel, JSON.stringify({ task_id: taskId, reason }));
    this.counters.increment(job.name, 'cancelled');
    return this.#statusOfFound((await this.#find(taskId)) ?? found);
  }

  /** Pub/sub channel on which workers hear about cancelled running tasks. */
  get cancelChannel(): string {
    return this.keys.cancelChannel;
  }

  /**
   * Runs a failed or cancelled task again from scratch (its attempt count is
   * reset). Other statuses are `TASK_NOT_RETRYABLE`.
   */
  async retry(taskId: string): Promise<TaskStatusResponse> {
    const found = await this.#require(taskId);
    const before = this.#statusOfFound(found);
    if (before.status !== 'failed' && before.status !== 'cancelled') {
      throw new TaskApiError(
        'TASK_NOT_RETRYABLE',
        `task ${taskId} is ${before.status}; only failed or cancelled tasks can be retried`,
        {
          status: before.status,
        },
      );
    }
    const { job } = found;
    if (job.data.cancelled) {
      const { cancelled: _, ...rest } = job.data;
      await job.updateData(rest);
    }
    if (found.state === 'failed') {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    }
    return this.#statusOfFound((await this.#find(taskId)) ?? found);
  }

  /**
   * Writes are refused at once while Redis is disconnected: a write parked
   * until Redis returns could run after the caller was told 503 and retried,
   * queueing the task twice.
   */
  #assertConnected(): void {
    if (this.#redis.status !== 'ready') {
      throw new TaskApiError(
        'QUEUE_UNAVAILABLE',
        'the task queue is unavailable; nothing was queued, retry later',
      );
    }
  }

  async #require(taskId: string): Promise<FoundJob> {
    assertTaskId(taskId);
    this.#assertConnected();
    const found = await this.#find(taskId);
    if (!found) throw new TaskApiError('TASK_NOT_FOUND', `no task with id ${taskId}`);
    return found;
  }

  /**
   * Counts by queue and status, lifetime totals by task name, workers
   * online, the oldest pending task's age and the last minutes' throughput.
   */
  async stats(now = Date.now()): Promise<QueueStatusResponse> {
    const entries = [...this.#queues.entries()];
    const [perQueue, tasks, workersOnline, throughput] = await Promise.all([
      Promise.all(
        entries.map(async ([name, q]) => {
          const [c, paused, age] = await Promise.all([
            q.getJobCounts(
              'waiting',
              'prioritized',
              'waiting-children',
              'delayed',
              'active',
              'completed',
              'failed',
            ),
            q.isPaused(),
            oldestPendingAgeSeconds(this.#redis, q, now),
          ]);
          const counts: QueueCounts = {
            pending: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
            scheduled: c.delayed ?? 0,
            running: c.active ?? 0,
            completed: c.completed ?? 0,
            failed: c.failed ?? 0,
            paused,
            oldest_pending_age_seconds: round3(age),
          };
          return [name, counts] as const;
        }),
      ),
      this.counters.read(this.catalog.names()),
      this.presence.online(now),
      this.metrics.readThroughput(undefined, now),
    ]);
    const totals = { pending: 0, scheduled: 0, running: 0, completed: 0, failed: 0 };
    for (const [, c] of perQueue) {
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += c[k];
    }
    const oldest = Math.max(0, ...perQueue.map(([, c]) => c.oldest_pending_age_seconds ?? 0));
    return {
      queues: Object.fromEntries(perQueue),
      totals,
      tasks,
      workers_online: workersOnline,
      oldest_pending_age_seconds: oldest,
      throughput: { minutes: throughput.length, per_minute: throughput },
    };
  }

  /** One page of tasks, filtered by status and task name (see task-listing.ts for the paging rules). */
  list(options: ListTasksOptions = {}): Promise<TaskPageResponse> {
    return listTasks(this.#redis, [...this.#queues.entries()], options);
  }

  /** Removes (or counts, `dryRun`) finished tasks older than N days, in batches (see task-cleanup.ts). */
  cleanup(options: CleanupOptions): Promise<CleanupResult> {
    return cleanupTasks(this.#redis, [...this.#queues.entries()], options);
  }

  /** Flushes counters and metrics and closes the BullMQ queues (not the shared connection). */
  async close(): Promise<void> {
    await Promise.all([this.counters.close(), this.metrics.close()]);
    await Promise.all([...this.#queues.values()].map((q) => q.close()));
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** True when two prepared items are the same task with the same arguments. */
function samePrepared(a: PreparedTask, b: PreparedTask): boolean {
  return a.def.name === b.def.name && a.data.fingerprint === b.data.fingerprint;
}

/** The per-field problems of one item's error, for the bulk answer. */
function itemProblems(err: TaskApiError): { field: string; message: string; code: string }[] {
  const details = err.details;
  if (Array.isArray(details) && details.length) {
    return details.map((d: { field?: string; message?: string; code?: string }) => ({
      field: d.field ?? 'task',
      message: d.message ?? err.message,
      code:
        err.code === 'VALIDATION_ERROR' || err.code === 'INVALID_ARGUMENTS' ? (d.code ?? err.code) : err.code,
    }));
  }
  const field = (details as { field?: string } | undefined)?.field ?? 'task';
  return [{ field, message: err.message, code: err.code }];
}

/** Rejects ids that are not task ids (UUIDs, or scheduled-run ids) before any Redis command is sent. */
export function assertTaskId(taskId: string): void {
  if (!taskIdSchema.safeParse(taskId).success) {
    throw new TaskApiError(
      'INVALID_TASK_ID',
      'task id must be a UUID (or repeat:<schedule>:<ms> for a scheduled run)',
      { field: 'task_id' },
    );
  }
}
