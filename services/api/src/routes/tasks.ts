import type { TaskDefaults } from '@solar-tasks/contract';
import {
  enqueueRequestSchema,
  enqueueResponseSchema,
  errorBodySchema,
  queueStatusResponseSchema,
  resolveDefaults,
  TaskApiError,
  taskListResponseSchema,
  taskStatusResponseSchema,
} from '@solar-tasks/contract';
import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyRouteSchemaDef, FastifyValidationResult } from 'fastify/types/schema.js';
import { type FastifyPluginAsyncZod, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiKey } from '../api-keys.js';
import { withDeadline } from '../errors.js';
import { requireScope } from '../plugins/auth.js';
import { plainJsonSerializer } from '../plugins/plain-serializer.js';

/** Options of the tasks routes. */
export interface TasksRoutesOptions {
  queue: TaskQueue;
  apiKeys: readonly ApiKey[];
  /** Deployment task defaults, shown in the task list. */
  taskDefaults: Partial<TaskDefaults>;
  /** Longest a request waits on Redis before answering 503. */
  redisDeadlineMs: number;
}

const errors = {
  400: errorBodySchema,
  401: errorBodySchema,
  403: errorBodySchema,
  404: errorBodySchema,
  409: errorBodySchema,
  413: errorBodySchema,
  415: errorBodySchema,
  422: errorBodySchema,
  503: errorBodySchema,
};

/** The seed's REST contract: enqueue, status, list, queue-status. */
export const tasksRoutes: FastifyPluginAsyncZod<TasksRoutesOptions> = async (app, opts) => {
  const { queue, apiKeys, redisDeadlineMs } = opts;
  const read = requireScope(apiKeys, 'tasks:read');
  const write = requireScope(apiKeys, 'tasks:write');
  const taskList = buildTaskList(queue, opts.taskDefaults);

  app.post(
    '/api/tasks/enqueue/',
    {
      onRequest: write,
      serializerCompiler: plainJsonSerializer,
      validatorCompiler: headersDocumentedOnly,
      schema: {
        tags: ['tasks'],
        summary: 'Enqueue a task',
        description:
          'Validates `args`/`kwargs` against the task’s schema (see `GET /api/tasks/list/` and the `*_args` ' +
          'schemas below) and queues it. 201 for a new task; 200 with the same id when `idempotency_key` ' +
          '(or the `Idempotency-Key` header) was seen before.',
        // Documented here, checked in the handler: validating it with zod meant parsing a copy of every header.
        headers: idempotencyHeaderSchema,
        body: enqueueRequestSchema,
        response: { 200: enqueueResponseSchema, 201: enqueueResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const header = idempotencyHeader(request.headers['idempotency-key']);
      if (header !== undefined && body.idempotency_key !== undefined && header !== body.idempotency_key) {
        throw new TaskApiError('VALIDATION_ERROR', 'Idempotency-Key header and idempotency_key differ', [
          { field: 'idempotency_key', message: 'differs from the Idempotency-Key header', code: 'custom' },
        ]);
      }
      const result = await withDeadline(
        queue.enqueue(header === undefined ? body : { ...body, idempotency_key: header }),
        redisDeadlineMs,
      );
      // Logged on the request's line (app.ts onResponse): one line per enqueue.
      request.logFields = {
        task_id: result.taskId,
        task: result.taskName,
        created: result.created,
        task_status: result.status,
      };
      request.logMessage = result.created ? 'task enqueued' : 'task already enqueued (idempotency key)';
      return reply
        .code(result.created ? 201 : 200)
        .send({ task_id: result.taskId, task_name: result.taskName, status: result.status });
    },
  );

  app.get(
    '/api/tasks/status/:task_id/',
    {
      onRequest: read,
      schema: {
        tags: ['tasks'],
        summary: 'Get a task’s status',
        params: z.object({ task_id: z.string().max(100) }),
        response: { 200: taskStatusResponseSchema, ...errors },
      },
    },
    async (request) => {
      const status = await withDeadline(queue.getStatus(request.params.task_id), redisDeadlineMs);
      if (!status) throw new TaskApiError('TASK_NOT_FOUND', `no task with id ${request.params.task_id}`);
      return status;
    },
  );

  app.get(
    '/api/tasks/list/',
    {
      onRequest: read,
      schema: {
        tags: ['tasks'],
        summary: 'List task types',
        description:
          'Every task type with its description, defaults, positional parameter order and JSON Schema.',
        response: { 200: taskListResponseSchema, ...errors },
      },
    },
    async () => taskList,
  );

  app.get(
    '/api/tasks/queue-status/',
    {
      onRequest: read,
      schema: {
        tags: ['tasks'],
        summary: 'Queue statistics',
        description:
          'Counts per queue and status, lifetime totals per task name, workers online, the oldest pending ' +
          'task’s age, and finished attempts per minute over the last 15 minutes.',
        response: { 200: queueStatusResponseSchema, ...errors },
      },
    },
    async () => withDeadline(queue.stats(), redisDeadlineMs),
  );
};

const idempotencyKeyHeader = z.string().max(255).optional();
const idempotencyHeaderSchema = z.object({ 'idempotency-key': idempotencyKeyHeader }).loose();

/** The route's validator compiler: zod for the body, nothing for the headers (the handler checks its one header). */
function headersDocumentedOnly<S>(route: FastifyRouteSchemaDef<S>): FastifyValidationResult {
  return route.httpPart === 'headers'
    ? () => true
    : validatorCompiler(route as unknown as FastifyRouteSchemaDef<z.ZodType>);
}

/** The `Idempotency-Key` header, checked against its documented schema (a 422 naming it, as for any field). */
function idempotencyHeader(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const parsed = idempotencyKeyHeader.safeParse(value);
  if (parsed.success) return parsed.data;
  const { message, code } = parsed.error.issues[0]!;
  throw new TaskApiError('VALIDATION_ERROR', `idempotency-key: ${message}`, [
    { field: 'idempotency-key', message, code },
  ]);
}

/** The task list is static for a process: computed once at start, not per request. */
function buildTaskList(
  queue: TaskQueue,
  settings: Partial<TaskDefaults>,
): z.output<typeof taskListResponseSchema> {
  return {
    tasks: queue.catalog.list().map((def) => {
      const d = resolveDefaults(def, settings);
      return {
        name: def.name,
        description: def.description,
        queue: def.queue,
        parameters: [...def.parameters],
        defaults: {
          priority: d.priority,
          max_retries: d.maxRetries,
          retry_delay: d.retryDelay,
          timeout: d.timeout,
        },
        args_schema: argsJsonSchema(def.args),
      };
    }),
  };
}

/** JSON Schema of a task's arguments, as callers send them. */
export function argsJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
