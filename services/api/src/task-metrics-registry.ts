import type { QueueStatusResponse } from '@solar-tasks/contract';
import { RUNTIME_BUCKETS_SECONDS, type RuntimeHistogram, type TaskQueue } from '@solar-tasks/queue';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

/** What one scrape reads from Redis, once, for every metric. */
interface Snapshot {
  stats: QueueStatusResponse;
  runtime: Record<string, RuntimeHistogram>;
}

/** The metric names, for docs and tests. */
export const METRIC_NAMES = {
  enqueued: 'solar_tasks_enqueued_total',
  completed: 'solar_tasks_completed_total',
  failed: 'solar_tasks_failed_total',
  retried: 'solar_tasks_retried_total',
  cancelled: 'solar_tasks_cancelled_total',
  runtime: 'solar_task_run_duration_seconds',
  depth: 'solar_queue_tasks',
  oldest: 'solar_queue_oldest_pending_age_seconds',
  paused: 'solar_queue_paused',
  workers: 'solar_workers_online',
} as const;

const STATUSES = ['pending', 'scheduled', 'running', 'completed', 'failed'] as const;

/**
 * The Prometheus registry of one API process. Every task metric is read
 * from Redis when scraped (prom-client `collect` callbacks), so each API
 * replica reports the same deployment-wide figures, written by every worker:
 * lifetime counters from the task-totals hash, run-time histograms from the
 * bucket-count hash, queue depth and oldest pending age from the queues,
 * workers online from their heartbeats. Only the `process_*`/`nodejs_*`
 * metrics are this process's own. One scrape reads Redis once (a snapshot
 * shared by the collectors).
 */
export class TaskMetricsRegistry {
  readonly registry = new Registry();
  readonly #queue: TaskQueue;
  #snapshot: Promise<Snapshot> | undefined;

  constructor(queue: TaskQueue) {
    this.#queue = queue;
    const snapshot = () => this.#snapshot ?? this.#load();
    const taskCounter = (name: string, event: keyof QueueStatusResponse['tasks'][string], help: string) =>
      new Counter({
        name,
        help,
        labelNames: ['task'],
        registers: [this.registry],
        async collect() {
          const { stats } = await snapshot();
          this.reset();
          for (const [task, totals] of Object.entries(stats.tasks)) this.inc({ task }, totals[event]);
        },
      });
    taskCounter(METRIC_NAMES.enqueued, 'enqueued', 'Tasks enqueued, by task name (all API replicas).');
    taskCounter(METRIC_NAMES.completed, 'completed', 'Tasks completed, by task name (all workers).');
    taskCounter(METRIC_NAMES.failed, 'failed', 'Tasks failed for good (no retry left), by task name.');
    taskCounter(METRIC_NAMES.retried, 'retried', 'Failed attempts scheduled to retry, by task name.');
    taskCounter(METRIC_NAMES.cancelled, 'cancelled', 'Tasks cancelled, by task name.');

    new Gauge({
      name: METRIC_NAMES.depth,
      help: 'Tasks in each queue, by status (completed/failed: those still kept).',
      labelNames: ['queue', 'status'],
      registers: [this.registry],
      async collect() {
        const { stats } = await snapshot();
        this.reset();
        for (const [queue, counts] of Object.entries(stats.queues))
          for (const status of STATUSES) this.set({ queue, status }, counts[status]);
      },
    });
    new Gauge({
      name: METRIC_NAMES.oldest,
      help: 'Seconds the longest-waiting ready task of each queue has been due (0 when none waits).',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        const { stats } = await snapshot();
        this.reset();
        for (const [queue, counts] of Object.entries(stats.queues))
          this.set({ queue }, counts.oldest_pending_age_seconds ?? 0);
      },
    });
    new Gauge({
      name: METRIC_NAMES.paused,
      help: '1 when the queue is paused.',
      labelNames: ['queue'],
      registers: [this.registry],
      async collect() {
        const { stats } = await snapshot();
        this.reset();
        for (const [queue, counts] of Object.entries(stats.queues))
          this.set({ queue }, counts.paused ? 1 : 0);
      },
    });
    new Gauge({
      name: METRIC_NAMES.workers,
      help: 'Worker processes with a heartbeat in the last 15 s.',
      registers: [this.registry],
      async collect() {
        const { stats } = await snapshot();
        this.set(stats.workers_online ?? 0);
      },
    });
    // prom-client's Histogram observes values one by one in this process; the
    // buckets here were counted by the workers, so this metric reports them as read.
    const runtimeHelp = 'Run time of completed tasks, by task name (all workers).';
    this.registry.registerMetric({
      name: METRIC_NAMES.runtime,
      help: runtimeHelp,
      type: 'histogram',
      aggregator: 'sum',
      async get() {
        const { runtime } = await snapshot();
        const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
        for (const [task, h] of Object.entries(runtime).sort(([a], [b]) => a.localeCompare(b))) {
          let cumulative = 0;
          RUNTIME_BUCKETS_SECONDS.forEach((le, i) => {
            cumulative += h.buckets[i] ?? 0;
            values.push({
              labels: { task, le },
              value: cumulative,
              metricName: `${METRIC_NAMES.runtime}_bucket`,
            });
          });
          cumulative += h.buckets[RUNTIME_BUCKETS_SECONDS.length] ?? 0;
          values.push({
            labels: { task, le: '+Inf' },
            value: cumulative,
            metricName: `${METRIC_NAMES.runtime}_bucket`,
          });
          values.push({ labels: { task }, value: h.sumSeconds, metricName: `${METRIC_NAMES.runtime}_sum` });
          values.push({ labels: { task }, value: h.count, metricName: `${METRIC_NAMES.runtime}_count` });
        }
        return {
          name: METRIC_NAMES.runtime,
          help: runtimeHelp,
          type: 'histogram',
          values,
          aggregator: 'sum',
        };
      },
    } as unknown as Parameters<Registry['registerMetric']>[0]);
    collectDefaultMetrics({ register: this.registry });
  }

  #load(): Promise<Snapshot> {
    return Promise.all([this.#queue.stats(), this.#queue.metrics.readRuntime()]).then(([stats, runtime]) => ({
      stats,
      runtime,
    }));
  }

  /** Content type of {@link scrape}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; reads Redis once for all task metrics. */
  async scrape(): Promise<string> {
    const snapshot = this.#load();
    // A rejected snapshot is reported by the collectors; don't also leave it unhandled.
    snapshot.catch(() => {});
    this.#snapshot = snapshot;
    try {
      await snapshot;
      return await this.registry.metrics();
    } finally {
      if (this.#snapshot === snapshot) this.#snapshot = undefined;
    }
  }
}
