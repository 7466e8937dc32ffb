import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import {
  type EmailjsSubmission,
  emailjsDedupKey,
  emailjsSubmissionKey,
  errorBodySchema,
  type NormalisedEmailjsPayload,
  normaliseEmailjsPayload,
  type RawEmailjsPayload,
  TaskApiError,
} from '@solar-tasks/contract';
import type { RedisClient, TaskQueue } from '@solar-tasks/queue';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendError, withDeadline } from '../errors.js';
import { type WindowStore, windowLimiter } from '../plugins/window-limiter.js';

/** Where the webhook answers (with and without the trailing slash). */
export const EMAILJS_WEBHOOK_PATH = '/api/webhooks/emailjs';

/** The per-IP limit of the webhook. */
export interface WebhookRateLimit {
  /** Submissions one client IP may post per window. @defaultValue 10 */
  max?: number;
  /** @defaultValue 60000 */
  timeWindowMs?: number;
}

/** Options of the EmailJS webhook; with no `secret` it answers 401 to everyone. */
export interface EmailjsWebhookOptions {
  /** Connection for stored submissions (an `api`-role one: fails fast when Redis is down). */
  redis: RedisClient;
  /** Shared secret: `X-EmailJS-Secret` header or `?token=`. Unset: the webhook is closed. */
  secret?: string | undefined;
  /** Browser origins allowed to post (CORS). Empty: no browser origin may. */
  allowedOrigins?: readonly string[];
  rateLimit?: WebhookRateLimit;
  /** How long a stored submission is kept (seconds); the task must run within it. @defaultValue 7 days */
  submissionTtlSeconds?: number;
  /** A submission posted again within this window (seconds) returns the same task. @defaultValue 600 */
  duplicateWindowSeconds?: number;
}

/** Route options: the webhook's plus what every route gets. */
interface PluginOptions extends Partial<EmailjsWebhookOptions> {
  queue: TaskQueue;
  redisDeadlineMs: number;
  /** The app's store of request limits (in Redis when configured, so the limit holds across replicas). */
  limitStore: WindowStore;
}

/**
 * Stores a submission unless the same content arrived within the duplicate
 * window, in one atomic step; returns the submission id to use (the earlier
 * one for a duplicate).
 */
const STORE_SUBMISSION = `
local existing = redis.call('GET', KEYS[1])
if existing then return {existing, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[4])
return {ARGV[1], 1}
`;

interface StoreScript {
  solarEmailjsStore(
    dedupKey: string,
    submissionKey: string,
    id: string,
    json: string,
    windowSeconds: number,
    ttlSeconds: number,
  ): Promise<[string, number]>;
}

/** Largest webhook body: a contact form is a few kilobytes. */
const BODY_LIMIT = 64 * 1024;

/**
 * `POST /api/webhooks/emailjs/`: the website's contact form. Accepts the
 * payload of `emailjs.send` (JSON) or `emailjs.sendForm` (form-encoded or
 * multipart), authenticates it with the shared secret, maps the template's
 * field names onto a lead, stores it in Redis and queues a
 * `process_emailjs_submission` task: 202 `{task_id}`. The same content posted
 * again within ten minutes returns the same task id.
 *
 * Order of checks: CORS preflight; the per-IP rate limit (onRequest, so
 * failed logins count too); the secret (also onRequest: a body is not even
 * read without it); the Origin; then the payload. Nothing is stored unless every
 * check passes. `accessToken` (an EmailJS private key) is dropped unread.
 */
export const emailjsWebhookRoutes: FastifyPluginAsyncZod<PluginOptions> = async (app, opts) => {
  const allowed = new Set(opts.allowedOrigins ?? []);
  const ttl = Math.max(60, Math.round(opts.submissionTtlSeconds ?? 7 * 86_400));
  const window = Math.max(1, Math.round(opts.duplicateWindowSeconds ?? 600));
  const expected = opts.secret ? digest(opts.secret) : undefined;
  if (opts.redis && !('solarEmailjsStore' in opts.redis))
    opts.redis.defineCommand('solarEmailjsStore', { numberOfKeys: 2, lua: STORE_SUBMISSION });
  const redis = opts.redis as (RedisClient & StoreScript) | undefined;

  await app.register(cors, {
    origin: allowed.size > 0 ? [...allowed] : false,
    methods: ['POST'],
    // A preflight without Origin is not from a browser: answer 204 without CORS headers rather
    // than the plugin's plain-text 400, which would break the API's one error shape.
    strictPreflight: false,
    allowedHeaders: ['content-type', 'x-emailjs-secret'],
    maxAge: 600,
  });
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(multipart, {
    limits: { fieldNameSize: 100, fieldSize: 10_000, fields: 120, files: 1, fileSize: 1, parts: 121 },
  });
  const limit = windowLimiter(opts.limitStore, {
    max: opts.rateLimit?.max ?? 10,
    windowMs: opts.rateLimit?.timeWindowMs ?? 60_000,
    message: 'too many submissions from this address',
  });
  const perIpLimit = (request: FastifyRequest, reply: FastifyReply, done: () => void) =>
    limit(`webhook-ip:${request.ip}`, reply, done);

  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers['x-emailjs-secret'];
    const query = (request.query as Record<string, unknown> | undefined)?.token;
    const presented = typeof header === 'string' ? header : typeof query === 'string' ? query : undefined;
    if (!expected || presented === undefined || !timingSafeEqual(digest(presented), expected)) {
      return sendError(
        reply,
        'UNAUTHORIZED',
        !expected
          ? 'the webhook is closed: EMAILJS_WEBHOOK_SECRET is not configured'
          : presented === undefined
            ? 'the webhook secret is required (X-EmailJS-Secret header or ?token=)'
            : 'wrong webhook secret',
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !allowed.has(origin))
      return sendError(reply, 'FORBIDDEN', 'this origin may not post the contact form', {
        field: 'origin',
      });
  };

  app.post(
    '/',
    {
      // Documented with the trailing slash like the seed's routes; ignoreTrailingSlash serves both.
      prefixTrailingSlash: 'slash',
      bodyLimit: BODY_LIMIT,
      // onRequest: before the body is read, so an unauthenticated caller costs no parsing.
      config: { auth: 'webhook' },
      onRequest: [perIpLimit, authenticate],
      schema: {
        tags: ['webhooks'],
        summary: 'Receive a website contact-form submission (EmailJS payload)',
        description:
          'The body `emailjs.send` takes (JSON: `service_id`, `template_id`, `user_id`, `template_params`) ' +
          'or the form `emailjs.sendForm` posts (`application/x-www-form-urlencoded` or `multipart/form-data`). ' +
          'Template fields such as `from_name`, `from_email`/`reply_to`, `phone`, `message`, `address`, `postcode`, ' +
          '`monthly_bill`, `roof_type`, `homeowner` become the lead; others are kept as extra fields. ' +
          'Answers 202 with the id of the `process_emailjs_submission` task; the same content posted again ' +
          'within ten minutes answers the same id. Needs the shared secret; limited per client IP.',
        security: [{ emailjsSecret: [] }, { emailjsToken: [] }],
        querystring: z.object({ token: z.string().max(500).optional() }),
        response: {
          202: z.object({ task_id: z.string() }),
          400: errorBodySchema,
          401: errorBodySchema,
          403: errorBodySchema,
          413: errorBodySchema,
          415: errorBodySchema,
          422: errorBodySchema,
          429: errorBodySchema,
          503: errorBodySchema,
        },
      },
    },
    async (request, reply) => {
      if (!redis) throw new Error('the EmailJS webhook has no Redis connection');
      const raw = request.isMultipart() ? await readMultipart(request) : fromBody(request.body);
      const result = normaliseEmailjsPayload(raw);
      if (!result.ok && result.reason === 'honeypot') {
        request.log.info({ field: result.field }, 'submission rejected: honeypot filled');
        throw new TaskApiError('SUBMISSION_REJECTED', 'the submission looks automated; it was not accepted', {
          field: result.field,
        });
      }
      if (!result.ok) {
        const first = result.issues[0]!;
        throw new TaskApiError('VALIDATION_ERROR', `${first.field}: ${first.message}`, result.issues);
      }

      const id = randomBytes(16).toString('base64url');
      const origin = request.headers.origin;
      const submission: EmailjsSubmission = {
        v: 1,
        id,
        received_at: new Date().toISOString(),
        ...result.value,
        ...(origin ? { origin: origin.slice(0, 200) } : {}),
      };
      const prefix = opts.queue.prefix;
      const [storedId, fresh] = await withDeadline(
        redis.solarEmailjsStore(
          emailjsDedupKey(prefix, contentHash(result.value)),
          emailjsSubmissionKey(prefix, id),
          id,
          JSON.stringify(submission),
          window,
          ttl,
        ),
        opts.redisDeadlineMs,
      );
      // Queued under a key derived from the submission: a re-post (or a retry after a 503) finds the same task.
      const task = await withDeadline(
        opts.queue.enqueue({
          task_name: 'process_emailjs_submission',
          kwargs: { submission_id: storedId },
          idempotency_key: `emailjs:submission:${storedId}`,
        }),
        opts.redisDeadlineMs,
      );
      request.log.info(
        { submission_id: storedId, task_id: task.taskId, duplicate: fresh === 0 },
        fresh === 0 ? 'submission posted again; same task' : 'submission accepted',
      );
      return reply.code(202).send({ task_id: task.taskId });
    },
  );
};

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/**
 * Identifies "the same submission": the normalised content (envelope ids,
 * lead fields, extra fields) with keys sorted, so field order and spelling
 * variants that map to the same lead do not matter.
 */
function contentHash(value: NormalisedEmailjsPayload): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** JSON (`emailjs.send`) or form-encoded (`emailjs.sendForm`) body. */
function fromBody(body: unknown): RawEmailjsPayload {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new TaskApiError('VALIDATION_ERROR', 'body: must be an object', [
      { field: 'body', message: 'must be an object', code: 'invalid_type' },
    ]);
  const record = body as Record<string, unknown>;
  if ('template_params' in record) {
    const params = record.template_params;
    if (!params || typeof params !== 'object' || Array.isArray(params))
      throw new TaskApiError('VALIDATION_ERROR', 'template_params: must be an object', [
        { field: 'template_params', message: 'must be an object', code: 'invalid_type' },
      ]);
    return {
      service_id: record.service_id,
      template_id: record.template_id,
      user_id: record.user_id,
      params: params as Record<string, unknown>,
      paramPrefix: 'template_params.',
    };
  }
  // A form's fields are the template parameters; its envelope fields sit beside them.
  return { params: record, paramPrefix: '' };
}

/**
 * The fields of a multipart form; a file part is refused (a contact form sends none).
 * A body the multipart parser cannot read (no boundary, a truncated part, a bad
 * part header) is a 400 naming the body, not an unexpected error: busboy throws
 * plain errors for those, without a status code.
 */
async function readMultipart(request: FastifyRequest): Promise<RawEmailjsPayload> {
  try {
    return await readMultipartParts(request);
  } catch (err) {
    const status = (err as { statusCode?: unknown }).statusCode;
    if (err instanceof TaskApiError || (typeof status === 'number' && status >= 400 && status < 500))
      throw err;
    throw new TaskApiError('BAD_REQUEST', 'body: the multipart form is malformed', [
      { field: 'body', message: 'malformed multipart/form-data', code: 'invalid_format' },
    ]);
  }
}

async function readMultipartParts(request: FastifyRequest): Promise<RawEmailjsPayload> {
  const params: Record<string, unknown> = Object.create(null);
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      part.file.resume();
      throw new TaskApiError('VALIDATION_ERROR', `${part.fieldname}: file uploads are not accepted`, [
        { field: part.fieldname, message: 'file uploads are not accepted', code: 'invalid_type' },
      ]);
    }
    if (part.valueTruncated)
      throw new TaskApiError('VALIDATION_ERROR', `${part.fieldname}: too long`, [
        { field: part.fieldname, message: 'at most 10000 bytes', code: 'too_big' },
      ]);
    const previous = params[part.fieldname];
    const value = String(part.value);
    params[part.fieldname] =
      previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return { params, paramPrefix: '' };
}
