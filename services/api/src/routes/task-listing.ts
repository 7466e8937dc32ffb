import { errorBodySchema, taskListQuerySchema, taskPageResponseSchema } from '@solar-tasks/contract';
import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiKey } from '../api-keys.js';
import { withDeadline } from '../errors.js';
import { requireScope } from '../plugins/auth.js';

/** Options of the task listing route. */
export interface TaskListingRoutesOptions {
  queue: TaskQueue;
  apiKeys: readonly ApiKey[];
  /** Longest a request waits on Redis before answering 503. */
  redisDeadlineMs: number;
}

/**
 * `GET /api/tasks/?status=&task_name=&limit=&cursor=`: one page of tasks
 * (scope `tasks:read`). Paging rules in packages/queue/src/task-listing.ts
 * and docs/cli.md: follow `next_cursor` until it is null; a malformed
 * cursor, or one made for other filters, is a 400 naming `cursor`.
 */
export const taskListingRoutes: FastifyPluginAsyncZod<TaskListingRoutesOptions> = async (app, opts) => {
  const { queue, redisDeadlineMs } = opts;
  app.get(
    '/api/tasks/',
    {
      onRequest: requireScope(opts.apiKeys, 'tasks:read'),
      schema: {
        tags: ['tasks'],
        summary: 'List tasks, one page at a time',
        description:
          'Tasks filtered by `status` and `task_name`, queue by queue: running, pending, scheduled and ' +
          'retrying, failed, completed (finished ones newest first). Pass `next_cursor` back as `cursor` ' +
          'for the next page, with the same filters; a page may hold fewer than `limit` tasks and still ' +
          'have a next one. A task that stays in its state while you page is listed exactly once.',
        querystring: taskListQuerySchema,
        response: {
          200: taskPageResponseSchema,
          400: errorBodySchema,
          401: errorBodySchema,
          403: errorBodySchema,
          503: errorBodySchema,
        },
      },
    },
    async (request) => withDeadline(queue.list(request.query), redisDeadlineMs),
  );
};
