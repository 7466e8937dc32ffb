import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withDeadline } from '../errors.js';

/** `/healthz`: the process answers. `/readyz`: Redis answers too (load balancers route on it). */
export const healthRoutes: FastifyPluginAsyncZod<{ queue: TaskQueue; redisDeadlineMs: number }> = async (
  app,
  opts,
) => {
  app.get(
    '/healthz',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: Redis reachable',
        response: {
          200: z.object({ ready: z.literal(true), redis: z.literal('up') }),
          503: z.object({ ready: z.literal(false), redis: z.literal('down') }),
        },
      },
    },
    async (_request, reply) => {
      const up = await withDeadline(opts.queue.ping(), opts.redisDeadlineMs).catch(() => false);
      if (up) return reply.code(200).send({ ready: true, redis: 'up' });
      return reply.code(503).send({ ready: false, redis: 'down' });
    },
  );
};
