import type { TaskArgs, TaskCatalog, TaskDefinition } from '@solar-tasks/contract';
import type { TaskQueue } from '@solar-tasks/queue';
import type { Logger } from '@solar-tasks/runtime';

/** What a handler gets besides its arguments. */
export interface TaskContext {
  /** The task's id (stable across attempts). */
  taskId: string;
  taskName: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** Retries allowed after the first attempt. */
  maxRetries: number;
  /** A logger whose lines carry task_id, task and attempt. */
  logger: Logger;
  /**
   * Aborted when the attempt times out, the task is cancelled or the worker
   * must hand the task back at shutdown. Pass it to fetch, streams, timers.
   */
  signal: AbortSignal;
  /** The queue, for handlers that enqueue follow-up tasks. */
  queue: TaskQueue;
}

/** A task's implementation: typed arguments in, a JSON-serialisable result out. */
export type TaskHandler<T extends TaskDefinition = TaskDefinition> = (
  args: TaskArgs<T>,
  context: TaskContext,
) => unknown | Promise<unknown>;

/** A registered task: its contract and its handler. */
export interface RegisteredTask {
  definition: TaskDefinition;
  handler: TaskHandler;
}

/**
 * The worker's task registry: the TypeScript form of the seed's
 * `@TaskRegistry.register('my_task')`. A handler is typed by its contract.
 */
export class TaskRegistry {
  readonly #tasks = new Map<string, RegisteredTask>();

  /** Registers `handler` for `definition`; a name registered twice is a programming error. */
  register<T extends TaskDefinition>(definition: T, handler: TaskHandler<T>): this {
    if (this.#tasks.has(definition.name)) throw new TypeError(`task ${definition.name} is registered twice`);
    this.#tasks.set(definition.name, { definition, handler: handler as TaskHandler });
    return this;
  }

  get(name: string): RegisteredTask | undefined {
    return this.#tasks.get(name);
  }

  /** Registered task names, sorted. */
  names(): string[] {
    return [...this.#tasks.keys()].sort();
  }

  /** Contracts of the registered tasks. */
  definitions(): TaskDefinition[] {
    return [...this.#tasks.values()].map((t) => t.definition);
  }

  /**
   * Refuses to start a worker that would receive tasks it cannot run: every
   * task of the catalog whose queue is in `queues` needs a handler here.
   */
  assertCovers(catalog: TaskCatalog, queues: readonly string[]): void {
    const missing = catalog
      .list()
      .filter((def) => queues.includes(def.queue) && !this.#tasks.has(def.name))
      .map((def) => `${def.name} (queue ${def.queue})`);
    if (missing.length > 0) {
      throw new Error(
        `no handler registered for: ${missing.join(', ')}; register one or drop its queue from WORKER_QUEUES`,
      );
    }
    const unknown = queues.filter((q) => !catalog.queues().includes(q));
    if (unknown.length > 0) {
      throw new Error(
        `WORKER_QUEUES names unknown queue(s) ${unknown.join(', ')}; known: ${catalog.queues().join(', ')}`,
      );
    }
  }
}
