import type { TaskTotals } from '@solar-tasks/contract';
import { FieldNames } from './field-names.js';
import type { RedisClient } from './redis-connection.js';

/** Events counted per task name. */
export type TaskEvent = keyof TaskTotals;
const EVENTS: readonly TaskEvent[] = ['enqueued', 'completed', 'failed', 'retried', 'cancelled'];

/** Options of {@link TaskCounters}. */
export interface TaskCountersOptions {
  /** Redis key of the hash holding the totals. */
  key: string;
  /** How often buffered increments are written. @defaultValue 1000 ms */
  flushIntervalMs?: number;
}

/**
 * Lifetime totals per task name, kept in one Redis hash. Increments are
 * buffered in memory and written once per interval in one round trip, so
 * counting adds no Redis command per task on the hot path. A crash loses at
 * most one interval of counts; a failed write keeps the counts for the next.
 */
export class TaskCounters {
  readonly #redis: RedisClient;
  readonly #key: string;
  #pending = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(redis: RedisClient, options: TaskCountersOptions) {
    if (!options.key) throw new TypeError('TaskCounters needs a key');
    const interval = options.flushIntervalMs ?? 1000;
    if (!(interval > 0)) throw new RangeError(`flushIntervalMs must be > 0, got ${interval}`);
    this.#redis = redis;
    this.#key = options.key;
    this.#timer = setInterval(() => void this.flush().catch(() => {}), interval);
    this.#timer.unref();
  }

  /** Counts one event (buffered). */
  increment(taskName: string, event: TaskEvent, by = 1): void {
    const field = this.#fields.of(taskName)[event];
    this.#pending.set(field, (this.#pending.get(field) ?? 0) + by);
  }

  readonly #fields = new FieldNames(
    (taskName): Record<TaskEvent, string> => ({
      enqueued: `${taskName}:enqueued`,
      completed: `${taskName}:completed`,
      failed: `${taskName}:failed`,
      retried: `${taskName}:retried`,
      cancelled: `${taskName}:cancelled`,
    }),
  );

  /** Writes buffered increments now. */
  async flush(): Promise<void> {
    if (this.#flushing) await this.#flushing;
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    const multi = this.#redis.multi();
    for (const [field, n] of batch) multi.hincrby(this.#key, field, n);
    this.#flushing = multi
      .exec()
      .then((res) => {
        if (!res || res.some(([err]) => err)) throw new Error('counter write failed');
      })
      .catch((err) => {
        for (const [field, n] of batch) this.#pending.set(field, (this.#pending.get(field) ?? 0) + n);
        throw err;
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    await this.#flushing;
  }

  /** Totals per task name, with zeros for `names` never counted. */
  async read(names: readonly string[] = []): Promise<Record<string, TaskTotals>> {
    const raw = await this.#redis.hgetall(this.#key);
    const totals: Record<string, TaskTotals> = Object.create(null);
    const zero = (): TaskTotals => ({ enqueued: 0, completed: 0, failed: 0, retried: 0, cancelled: 0 });
    for (const name of names) totals[name] = zero();
    for (const [field, value] of Object.entries(raw)) {
      const cut = field.lastIndexOf(':');
      const name = field.slice(0, cut);
      const event = field.slice(cut + 1) as TaskEvent;
      if (!EVENTS.includes(event)) continue;
      totals[name] ??= zero();
      totals[name][event] = Number(value);
    }
    return { ...totals };
  }

  /** Stops the timer and writes what is buffered. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush().catch(() => {});
  }
}
