import type { MinuteThroughput } from '@solar-tasks/contract';
import { FieldNames } from './field-names.js';
import type { RedisClient } from './redis-connection.js';

/**
 * Upper bounds (seconds) of the run-time histogram buckets, shared by every
 * worker and the API that reads them: changing them orphans the counts
 * already kept (they would be read into the wrong buckets), so change them
 * only with a new key.
 */
export const RUNTIME_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

/** Outcomes counted per minute for the throughput figures. */
export type FinishOutcome = 'completed' | 'failed' | 'retried';
const OUTCOMES: readonly FinishOutcome[] = ['completed', 'failed', 'retried'];

/** Run times of one task name, across every worker process. */
export interface RuntimeHistogram {
  /** Counts per bucket of {@link RUNTIME_BUCKETS_SECONDS}, not cumulative, plus a last one for +Inf. */
  buckets: number[];
  /** Sum of run times, seconds. */
  sumSeconds: number;
  count: number;
}

/** Options of {@link TaskMetrics}. */
export interface TaskMetricsOptions {
  /** Hash of run-time bucket counts (`<task>:<bucket>`, `<task>:sum_ms`, `<task>:count`). */
  runtimeKey: string;
  /** Prefix of the per-minute hashes: `<this>:<epoch minute>`. */
  throughputKeyPrefix: string;
  /** Minutes the per-minute counts are kept. @defaultValue 15 */
  throughputMinutes?: number;
  /** How often buffered increments are written. @defaultValue 1000 ms */
  flushIntervalMs?: number;
}

/**
 * Run-time histograms per task name and per-minute throughput, aggregated in
 * Redis across every worker process, so any API replica's `/metrics` and
 * `queue-status` see the whole deployment. Like `TaskCounters`, a worker
 * buffers its increments and writes them once per interval in one MULTI
 * (all keys share the `{stats}` hash tag, so it also runs on Cluster). A
 * crash loses at most one interval; a failed write keeps them for the next.
 */
export class TaskMetrics {
  readonly #redis: RedisClient;
  readonly #runtimeKey: string;
  readonly #throughputPrefix: string;
  readonly #minutes: number;
  #runtime = new Map<string, number>();
  #throughput = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;

  constructor(redis: RedisClient, options: TaskMetricsOptions) {
    if (!options.runtimeKey || !options.throughputKeyPrefix)
      throw new TypeError('TaskMetrics needs runtimeKey and throughputKeyPrefix');
    const minutes = options.throughputMinutes ?? 15;
    if (!(Number.isInteger(minutes) && minutes > 0 && minutes <= 1440))
      throw new RangeError(`throughputMinutes must be a whole number in 1..1440, got ${minutes}`);
    const interval = options.flushIntervalMs ?? 1000;
    if (!(interval > 0)) throw new RangeError(`flushIntervalMs must be > 0, got ${interval}`);
    this.#redis = redis;
    this.#runtimeKey = options.runtimeKey;
    this.#throughputPrefix = options.throughputKeyPrefix;
    this.#minutes = minutes;
    this.#timer = setInterval(() => void this.flush().catch(() => {}), interval);
    this.#timer.unref();
  }

  /** Minutes of throughput kept. */
  get throughputMinutes(): number {
    return this.#minutes;
  }

  /** Records one finished attempt's run time (buffered). */
  observeRun(taskName: string, durationMs: number): void {
    const ms = Math.max(0, Math.round(durationMs));
    const seconds = ms / 1000;
    let bucket = 0;
    while (bucket < RUNTIME_BUCKETS_SECONDS.length && seconds > RUNTIME_BUCKETS_SECONDS[bucket]!) bucket++;
    const fields = this.#runtimeFields.of(taskName);
    this.#add(this.#runtime, fields.buckets[bucket]!, 1);
    this.#add(this.#runtime, fields.sum, ms);
    this.#add(this.#runtime, fields.count, 1);
  }

  readonly #runtimeFields = new FieldNames((taskName) => ({
    buckets: Array.from({ length: RUNTIME_BUCKETS_SECONDS.length + 1 }, (_, i) => `${taskName}:${i}`),
    sum: `${taskName}:sum_ms`,
    count: `${taskName}:count`,
  }));

  /** Counts one finished attempt in the current minute (buffered). */
  countOutcome(outcome: FinishOutcome, now = Date.now()): void {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.#minute) {
      this.#minute = minute;
      this.#minuteFields = {
        completed: `${minute}:completed`,
        failed: `${minute}:failed`,
        retried: `${minute}:retried`,
      };
    }
    this.#add(this.#throughput, this.#minuteFields[outcome], 1);
  }

  /** The current minute's hash fields, made once a minute. */
  #minute = Number.NaN;
  #minuteFields: Record<FinishOutcome, string> = { completed: '', failed: '', retried: '' };

  #add(map: Map<string, number>, field: string, by: number): void {
    map.set(field, (map.get(field) ?? 0) + by);
  }

  /** Writes buffered increments now. */
  async flush(): Promise<void> {
    if (this.#flushing) await this.#flushing;
    if (this.#runtime.size === 0 && this.#throughput.size === 0) return;
    const runtime = this.#runtime;
    const throughput = this.#throughput;
    this.#runtime = new Map();
    this.#throughput = new Map();
    const multi = this.#redis.multi();
    for (const [field, n] of runtime) multi.hincrby(this.#runtimeKey, field, n);
    const touched = new Set<string>();
    for (const [field, n] of throughput) {
      const cut = field.indexOf(':');
      const key = `${this.#throughputPrefix}:${field.slice(0, cut)}`;
      multi.hincrby(key, field.slice(cut + 1), n);
      touched.add(key);
    }
    // Kept one minute longer than read, so the oldest minute read is whole.
    for (const key of touched) multi.expire(key, (this.#minutes + 1) * 60);
    this.#flushing = multi
      .exec()
      .then((res) => {
        if (!res || res.some(([err]) => err)) throw new Error('metrics write failed');
      })
      .catch((err) => {
        for (const [f, n] of runtime) this.#add(this.#runtime, f, n);
        for (const [f, n] of throughput) this.#add(this.#throughput, f, n);
        throw err;
      })
      .finally(() => {
        this.#flushing = undefined;
      });
    await this.#flushing;
  }

  /** Run-time histograms per task name. */
  async readRuntime(): Promise<Record<string, RuntimeHistogram>> {
    const raw = await this.#redis.hgetall(this.#runtimeKey);
    const out: Record<string, RuntimeHistogram> = Object.create(null);
    for (const [field, value] of Object.entries(raw)) {
      const cut = field.lastIndexOf(':');
      const name = field.slice(0, cut);
      const part = field.slice(cut + 1);
      out[name] ??= {
        buckets: new Array(RUNTIME_BUCKETS_SECONDS.length + 1).fill(0),
        sumSeconds: 0,
        count: 0,
      };
      const h = out[name];
      if (part === 'sum_ms') h.sumSeconds = Number(value) / 1000;
      else if (part === 'count') h.count = Number(value);
      else if (/^\d+$/.test(part) && Number(part) < h.buckets.length) h.buckets[Number(part)] = Number(value);
    }
    return { ...out };
  }

  /** Finished attempts per minute, the last `minutes` whole minutes and the current one, oldest first. */
  async readThroughput(minutes = this.#minutes, now = Date.now()): Promise<MinuteThroughput[]> {
    const current = Math.floor(now / 60_000);
    const span = Math.min(minutes, this.#minutes);
    const epochs = Array.from({ length: span }, (_, i) => current - span + 1 + i);
    // One HMGET per minute, pipelined (the keys share a hash tag).
    const pipeline = this.#redis.pipeline();
    for (const epoch of epochs) pipeline.hmget(`${this.#throughputPrefix}:${epoch}`, ...OUTCOMES);
    const res = (await pipeline.exec()) ?? [];
    return epochs.map((epoch, i) => {
      const [err, values] = res[i] ?? [null, []];
      if (err) throw err;
      const v = (values as (string | null)[]) ?? [];
      return {
        minute: new Date(epoch * 60_000).toISOString(),
        completed: Number(v[0] ?? 0),
        failed: Number(v[1] ?? 0),
        retried: Number(v[2] ?? 0),
      };
    });
  }

  /** Stops the timer and writes what is buffered. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush().catch(() => {});
  }
}
