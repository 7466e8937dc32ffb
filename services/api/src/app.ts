import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TaskDefaults } from '@solar-tasks/contract';
import { ERROR_CODES } from '@solar-tasks/contract';
import type { TaskQueue } from '@solar-tasks/queue';
import { type Logger, lazyChild, lineWriter, randomUuid } from '@solar-tasks/runtime';
import Fastify, {
  type FastifyInstance,
  LogController,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { pino } from 'pino';
import type { ApiKey } from './api-keys.js';
import { errorHandler, sendError } from './errors.js';
import { ADMIN_PATH, adminDashboard } from './plugins/admin-dashboard.js';
import { registerJsonBodyParser } from './plugins/json-body.js';
import { LoginThrottle } from './plugins/login-throttle.js';
import { type RequestLimits, registerRequestLimits } from './plugins/request-limits.js';
import { recordRouteTable } from './plugins/route-table.js';
import { API_SECURITY_HEADERS, pageSecurityHeaders } from './plugins/security-headers.js';
import { windowStore } from './plugins/window-limiter.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { schedulesRoutes } from './routes/schedules.js';
import { taskActionsRoutes } from './routes/task-actions.js';
import { taskListingRoutes } from './routes/task-listing.js';
import { argsJsonSchema, tasksRoutes } from './routes/tasks.js';
import { tasksBulkRoutes } from './routes/tasks-bulk.js';
import {
  EMAILJS_WEBHOOK_PATH,
  type EmailjsWebhookOptions,
  emailjsWebhookRoutes,
} from './routes/webhook-emailjs.js';

/** What the API is built from; `main.ts` makes these from settings, tests make their own. */
export interface AppDeps {
  queue: TaskQueue;
  /** Keys that may call the task routes. Empty means every task route answers 401. */
  apiKeys: readonly ApiKey[];
  /** A pino logger, or false for none. */
  logger: Logger | false;
  /** Deployment task defaults (`TASK_DEFAULT_*`), shown in the task list. */
  taskDefaults?: Partial<TaskDefaults>;
  /** Largest body, bytes. @defaultValue 262144 */
  bodyLimit?: number;
  /** Largest body of `POST /api/tasks/enqueue-bulk/`, bytes. @defaultValue 4194304 */
  bulkBodyLimit?: number;
  /** Fastify `trustProxy`: only behind a proxy you run. @defaultValue false */
  trustProxy?: boolean | string | string[];
  /** Rate limits per API key and per client IP. */
  limits?: RequestLimits;
  /** Longest a request waits on Redis before a 503. @defaultValue 1000 */
  redisDeadlineMs?: number;
  /** The EmailJS webhook. Without it, or without its `secret`, the webhook answers 401. */
  emailjs?: EmailjsWebhookOptions;
  /** Dashboard login (`ADMIN_USERNAME`/`ADMIN_PASSWORD`); admin-scope API keys work too. */
  admin?: {
    username?: string | undefined;
    password?: string | undefined;
    /** Failed logins per client IP and window before all its logins get 429. @defaultValue 20 per 10 minutes */
    loginLimit?: { max?: number; windowMs?: number };
  };
  /** A bearer token that may read `/metrics` (`METRICS_TOKEN`), besides the admin login and admin keys. */
  metricsToken?: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Fields the route adds to the request's one log line (the task id, …). */
    logFields?: AccessLogFields;
    /** The message of that line, when the route names its outcome (`task enqueued`); else `request`. */
    logMessage?: string;
  }
}

/** What a route may add to its request's log line. */
export interface AccessLogFields {
  task_id?: string;
  task?: string;
  /** A new task (enqueue), or how many were new (bulk). */
  created?: boolean | number;
  task_status?: string;
  /** Tasks in a bulk request. */
  tasks?: number;
}

/** The request line's fields, in order. */
const ACCESS_LOG_KEYS = [
  'reqId',
  'method',
  'url',
  'status',
  'ms',
  'api_key',
  'task_id',
  'task',
  'created',
  'task_status',
  'tasks',
] as const;

/** The API's Fastify instance type. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  Logger,
  ZodTypeProvider
>;

const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Builds the Fastify app (no `listen`): routes, OpenAPI, error handling. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const redisDeadlineMs = deps.redisDeadlineMs ?? 1000;
  const logger = deps.logger || pino({ enabled: false });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.bodyLimit ?? 256 * 1024,
    trustProxy: deps.trustProxy ?? false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // One line per request, written by our onResponse hook (with the key name), instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // Errors the router raises before any route runs (a malformed URL) keep the one error shape too.
    frameworkErrors: (error, _request, reply) => {
      sendError(
        reply,
        'BAD_REQUEST',
        error.code === 'FST_ERR_BAD_URL' ? 'the URL is malformed' : 'bad request',
      );
    },
    // Fastify makes a child logger per request; it is made only if the request logs through it.
    childLoggerFactory: (parent, bindings, options) => lazyChild(parent as Logger, bindings, options),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUuid();
    },
  }).withTypeProvider<ZodTypeProvider>();

  // JSON only (the webhook adds its form encodings in its own scope): anything else is a 415.
  registerJsonBodyParser(app);
  // Swagger UI's routes are public reading material, and CORS preflights carry no credentials by
  // design: mark them before the route table records them.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs') || route.method === 'OPTIONS')
      route.config = { ...route.config, auth: 'public' };
    else if (route.url === ADMIN_PATH || route.url.startsWith(`${ADMIN_PATH}/`))
      route.config = { ...route.config, auth: 'admin' };
  });
  recordRouteTable(app);
  // Security headers on every answer (nosniff, HSTS, framing, resource policy), and the request id.
  // The pages (docs, dashboard) add helmet's page-only headers and their own content security policy.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(API_SECURITY_HEADERS);
    reply.header('x-request-id', request.id);
    done();
  });
  // One store for every request limit (API keys, client IPs, the webhook): in Redis when the limits are.
  const limitsNameSpace = deps.limits?.nameSpace ?? 'solar:rate-limit:';
  const limitStore = windowStore({ redis: deps.limits?.redis, nameSpace: limitsNameSpace });
  registerRequestLimits(app, deps.apiKeys, limitStore, deps.limits);
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
  );

  // One line per request: the route may add its outcome (`request.logFields`, e.g. the task id),
  // so an enqueue costs one log line, not two.
  app.decorateRequest('logFields', undefined);
  app.decorateRequest('logMessage', undefined);
  // The request line's fields are our own (method, route pattern, status, key name, task id): no
  // redaction pass, written by a lineWriter.
  const accessLine = lineWriter(logger, 'info', 'request', ACCESS_LOG_KEYS);
  app.addHook('onResponse', (request, reply, done) => {
    const fields = request.logFields;
    accessLine(
      {
        reqId: request.id,
        method: request.method,
        url: request.routeOptions.url ?? request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        api_key: request.apiKey?.name,
        task_id: fields?.task_id,
        task: fields?.task,
        created: fields?.created,
        task_status: fields?.task_status,
        tasks: fields?.tasks,
      },
      request.logMessage,
    );
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Solar Tasks API',
        version: '0.1.0',
        description:
          'Background tasks for the Solar CRM. Task routes need an API key (`Authorization: Bearer <key>` or `X-API-Key`). ' +
          `Errors are \`{ error: { code, message, details? } }\`; codes: ${Object.keys(ERROR_CODES).join(', ')}.`,
      },
      servers: [{ url: 'https://tasks.solar-crm.example', description: 'production (example)' }],
      security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer' },
          apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          emailjsSecret: { type: 'apiKey', in: 'header', name: 'X-EmailJS-Secret' },
          emailjsToken: { type: 'apiKey', in: 'query', name: 'token' },
        },
        schemas: Object.fromEntries(
          deps.queue.catalog
            .list()
            .map((def) => [
              `${def.name}_args`,
              { ...argsJsonSchema(def.args), description: def.description },
            ]),
        ),
      },
      tags: [
        { name: 'tasks', description: 'Enqueue tasks and read their status' },
        { name: 'schedules', description: 'Periodic tasks from SCHEDULES_FILE' },
        { name: 'webhooks', description: 'The website contact form (EmailJS payloads)' },
        { name: 'health', description: 'Liveness and readiness' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  // Swagger UI sets its own strict CSP for its static assets; its routes add helmet's page-only headers.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiHooks: { onRequest: pageSecurityHeaders },
  });

  await app.register(healthRoutes, { queue: deps.queue, redisDeadlineMs });
  await app.register(tasksRoutes, {
    queue: deps.queue,
    apiKeys: deps.apiKeys,
    taskDefaults: deps.taskDefaults ?? {},
    redisDeadlineMs,
  });
  await app.register(tasksBulkRoutes, {
    queue: deps.queue,
    apiKeys: deps.apiKeys,
    redisDeadlineMs,
    bodyLimit: deps.bulkBodyLimit,
  });
  await app.register(taskActionsRoutes, { queue: deps.queue, apiKeys: deps.apiKeys, redisDeadlineMs });
  await app.register(taskListingRoutes, { queue: deps.queue, apiKeys: deps.apiKeys, redisDeadlineMs });
  await app.register(schedulesRoutes, { queue: deps.queue, apiKeys: deps.apiKeys, redisDeadlineMs });
  // Its own encapsulated plugin: form parsers, CORS and the rate limit apply to the webhook only.
  await app.register(emailjsWebhookRoutes, {
    prefix: EMAILJS_WEBHOOK_PATH,
    queue: deps.queue,
    redisDeadlineMs,
    limitStore,
    ...deps.emailjs,
  });
  // One count of failed operator logins for the dashboard and /metrics, in Redis when the limits are.
  const loginThrottle = new LoginThrottle({
    redis: deps.limits?.redis,
    nameSpace: `${limitsNameSpace}admin-login:`,
    ...deps.admin?.loginLimit,
  });
  await app.register(metricsRoutes, {
    queue: deps.queue,
    apiKeys: deps.apiKeys,
    redisDeadlineMs,
    ...deps.admin,
    token: deps.metricsToken,
    throttle: loginThrottle,
  });
  await app.register(adminDashboard, {
    prefix: ADMIN_PATH,
    queue: deps.queue,
    apiKeys: deps.apiKeys,
    ...deps.admin,
    throttle: loginThrottle,
  });
  return app;
}
