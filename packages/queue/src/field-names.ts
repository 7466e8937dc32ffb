/**
 * Redis hash field names derived from a task name, made once per name: they
 * are needed on every task's path (counters, run-time histograms). Task names
 * come from the catalog, but a job can carry any name, so the cache is bounded.
 */
export class FieldNames<T> {
  readonly #byName = new Map<string, T>();
  readonly #make: (taskName: string) => T;

  constructor(make: (taskName: string) => T) {
    this.#make = make;
  }

  of(taskName: string): T {
    let fields = this.#byName.get(taskName);
    if (!fields) {
      if (this.#byName.size >= 1000) this.#byName.clear();
      fields = this.#make(taskName);
      this.#byName.set(taskName, fields);
    }
    return fields;
  }
}
