import { errorBodySchema, taskStatusResponseSchema } from '@solar-tasks/contract';
import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiKey } from '../api-keys.js';
import { withDeadline } from '../errors.js';
import { requireScope } from '../plugins/auth.js';

/** Options of the task action routes. */
export interface TaskActionsRoutesOptions {
  queue: TaskQueue;
  apiKeys: readonly ApiKey[];
  /** Longest a request waits on Redis before answering 503. */
  redisDeadlineMs: number;
}

const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  404: errorBodySchema,
  409: errorBodySchema,
  503: errorBodySchema,
};

const params = z.object({ task_id: z.string().max(100) });

/**
 * `POST /api/tasks/<id>/cancel/` and `POST /api/tasks/<id>/retry/`: both
 * answer 200 with the task's status afterwards, or a catalog error
 * (`TASK_NOT_FOUND` 404, `TASK_NOT_CANCELLABLE`/`TASK_NOT_RETRYABLE` 409).
 * Neither takes a body.
 *
 * Added for the TypeScript client (issue 9) while the same routes are built
 * for the CLI and dashboard (issue 4): when both land, keep one.
 */
export const taskActionsRoutes: FastifyPluginAsyncZod<TaskActionsRoutesOptions> = async (app, opts) => {
  const { queue, redisDeadlineMs } = opts;
  const write = requireScope(opts.apiKeys, 'tasks:write');

  app.post(
    '/api/tasks/:task_id/cancel/',
    {
      onRequest: write,
      schema: {
        tags: ['tasks'],
        summary: 'Cancel a task',
        description:
          'A pending, scheduled or retrying task is discarded without running; a running one has its ' +
          'signal aborted. Cancelling a cancelled task changes nothing; a completed or failed one is 409 ' +
          '`TASK_NOT_CANCELLABLE`.',
        params,
        response: { 200: taskStatusResponseSchema, ...errors },
      },
    },
    async (request) => {
      const status = await withDeadline(queue.cancel(request.params.task_id), redisDeadlineMs);
      request.log.info({ task_id: status.task_id, task: status.task_name }, 'task cancelled');
      return status;
    },
  );

  app.post(
    '/api/tasks/:task_id/retry/',
    {
      onRequest: write,
      schema: {
        tags: ['tasks'],
        summary: 'Retry a failed or cancelled task',
        description:
          'Runs the task again from scratch (attempts reset). Any other status is 409 `TASK_NOT_RETRYABLE`.',
        params,
        response: { 200: taskStatusResponseSchema, ...errors },
      },
    },
    async (request) => {
      const status = await withDeadline(queue.retry(request.params.task_id), redisDeadlineMs);
      request.log.info({ task_id: status.task_id, task: status.task_name }, 'task retried');
      return status;
    },
  );
};
