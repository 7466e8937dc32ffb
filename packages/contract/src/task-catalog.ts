import type { TaskDefinition } from './define-task.js';

/** The set of task types a deployment knows, by name. Pure data: the API and the worker each hold one. */
export class TaskCatalog {
  readonly #byName = new Map<string, TaskDefinition>();

  constructor(definitions: Iterable<TaskDefinition>) {
    for (const def of definitions) {
      if (this.#byName.has(def.name)) throw new TypeError(`task ${def.name} is defined twice`);
      this.#byName.set(def.name, def);
    }
  }

  /** The definition of `name`, or undefined. Only own entries: `__proto__` is not a task. */
  get(name: string): TaskDefinition | undefined {
    return this.#byName.get(name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Task names, sorted. */
  names(): string[] {
    return [...this.#byName.keys()].sort();
  }

  /** Distinct queue names, sorted. */
  queues(): string[] {
    return [...new Set([...this.#byName.values()].map((d) => d.queue))].sort();
  }

  /** Definitions, in registration order. */
  list(): TaskDefinition[] {
    return [...this.#byName.values()];
  }
}
