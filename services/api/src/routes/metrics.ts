import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { withDeadline } from '../errors.js';
import { type AdminAuthOptions, requireAdmin } from '../plugins/admin-auth.js';
import { TaskMetricsRegistry } from '../task-metrics-registry.js';

/** Options of the metrics route. */
export interface MetricsRoutesOptions extends AdminAuthOptions {
  queue: TaskQueue;
  /** Longest a scrape waits on Redis before answering 503. */
  redisDeadlineMs: number;
}

/**
 * `GET /metrics`: Prometheus text, read from Redis at scrape time (see
 * {@link TaskMetricsRegistry}). Closed like the dashboard: admin login, an
 * admin-scope API key, or `METRICS_TOKEN` as a bearer. A scrape while Redis
 * is down answers 503 within the Redis deadline.
 */
export const metricsRoutes: FastifyPluginAsyncZod<MetricsRoutesOptions> = async (app, opts) => {
  const metrics = new TaskMetricsRegistry(opts.queue);
  app.get(
    '/metrics',
    {
      config: { auth: 'admin' },
      onRequest: requireAdmin(opts),
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        description:
          'Prometheus text format. Needs the admin login (Basic), an API key with the `admin` scope, or `METRICS_TOKEN` as a bearer.',
        security: [{ bearerAuth: [] }],
      },
    },
    async (_request, reply) => {
      const text = await withDeadline(metrics.scrape(), opts.redisDeadlineMs);
      return reply.type(metrics.contentType).send(text);
    },
  );
};
