import { errorBodySchema, scheduleListResponseSchema } from '@solar-tasks/contract';
import { listSchedules, type TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiKey } from '../api-keys.js';
import { withDeadline } from '../errors.js';
import { requireScope } from '../plugins/auth.js';

/** Options of the schedules route. */
export interface SchedulesRoutesOptions {
  queue: TaskQueue;
  apiKeys: readonly ApiKey[];
  /** Longest a request waits on Redis before answering 503. */
  redisDeadlineMs: number;
}

/**
 * `GET /api/schedules/`: the periodic schedules stored in Redis (upserted
 * from `SCHEDULES_FILE` by the workers), soonest next run first. Scope `tasks:read`.
 */
export const schedulesRoutes: FastifyPluginAsyncZod<SchedulesRoutesOptions> = async (app, opts) => {
  const { queue, redisDeadlineMs } = opts;
  app.get(
    '/api/schedules/',
    {
      onRequest: requireScope(opts.apiKeys, 'tasks:read'),
      schema: {
        tags: ['schedules'],
        summary: 'List periodic schedules',
        description:
          'Every schedule the workers upserted from SCHEDULES_FILE: its task, cron pattern and time zone ' +
          '(or interval), next run and bound arguments. Runs of a schedule have task ids ' +
          '`repeat:<name>:<slot ms>`, which `GET /api/tasks/status/<id>/` accepts.',
        response: {
          200: scheduleListResponseSchema,
          401: errorBodySchema,
          403: errorBodySchema,
          503: errorBodySchema,
        },
      },
    },
    async () => ({ schedules: await withDeadline(listSchedules(queue), redisDeadlineMs) }),
  );
};
