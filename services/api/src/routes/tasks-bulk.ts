import {
  enqueueBulkRequestSchema,
  enqueueBulkResponseSchema,
  errorBodySchema,
  MAX_BULK_TASKS,
} from '@solar-tasks/contract';
import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiKey } from '../api-keys.js';
import { withDeadline } from '../errors.js';
import { requireScope } from '../plugins/auth.js';
import { plainJsonSerializer } from '../plugins/plain-serializer.js';

/** Options of the bulk enqueue route. */
export interface TasksBulkRoutesOptions {
  queue: TaskQueue;
  apiKeys: readonly ApiKey[];
  /** Longest a request waits on Redis before answering 503. */
  redisDeadlineMs: number;
  /** Largest body of this route, bytes (`BULK_BODY_LIMIT`). @defaultValue 4 MiB */
  bodyLimit?: number;
}

const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  409: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  422: errorBodySchema,
  503: errorBodySchema,
};

/**
 * `POST /api/tasks/enqueue-bulk/`: up to {@link MAX_BULK_TASKS} tasks in one
 * request, all or nothing. Every item is validated before anything is
 * written; one bad item is a 422 naming `tasks[i].<field>` and queues none.
 * The new tasks go to Redis in one round trip (BullMQ `addBulk`).
 */
export const tasksBulkRoutes: FastifyPluginAsyncZod<TasksBulkRoutesOptions> = async (app, opts) => {
  const { queue, redisDeadlineMs } = opts;
  const write = requireScope(opts.apiKeys, 'tasks:write');

  app.post(
    '/api/tasks/enqueue-bulk/',
    {
      onRequest: write,
      bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024,
      serializerCompiler: plainJsonSerializer,
      schema: {
        tags: ['tasks'],
        summary: 'Enqueue many tasks',
        description:
          `Up to ${MAX_BULK_TASKS} tasks, each shaped like the body of \`POST /api/tasks/enqueue/\`. ` +
          'All or nothing: when any item is invalid the answer is 422 with `details[].field` such as ' +
          '`tasks[3].kwargs.to` and nothing is queued. The answer lists one `{task_id, task_name, status, ' +
          'created}` per item, in order; an item whose `idempotency_key` was seen before answers that task ' +
          'with `created: false`. 201 when at least one task was created, else 200.',
        body: enqueueBulkRequestSchema,
        response: { 200: enqueueBulkResponseSchema, 201: enqueueBulkResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const results = await withDeadline(queue.enqueueBulk(request.body.tasks), redisDeadlineMs);
      let created = 0;
      const tasks = results.map((r) => {
        if (r.created) created++;
        return { task_id: r.taskId, task_name: r.taskName, status: r.status, created: r.created };
      });
      request.logFields = { tasks: tasks.length, created };
      return reply.code(created > 0 ? 201 : 200).send({ tasks });
    },
  );
};
