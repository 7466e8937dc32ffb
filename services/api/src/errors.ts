import { ERROR_CODES, type ErrorBody, type ErrorCode, formatPath, TaskApiError } from '@solar-tasks/contract';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** Sends the one error body shape with the catalog's status. */
export function sendError(
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  details?: unknown,
): FastifyReply {
  const body: ErrorBody = { error: { code, message } };
  if (details !== undefined) body.error.details = details;
  return reply.code(ERROR_CODES[code].status).send(body);
}

/**
 * True for errors that mean "Redis is not answering", or is full (`OOM`,
 * maxmemory reached with noeviction; Redis refuses a script at its first
 * write, so nothing was written): the API answers those 503 QUEUE_UNAVAILABLE
 * (nothing was queued) rather than 500.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'DeadlineError') return true;
  const code = (err as NodeJS.ErrnoException).code;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTCONN', 'EHOSTUNREACH'].includes(code))
    return true;
  return /enableOfflineQueue|Connection is closed|Command timed out|Stream isn't writeable|connect ETIMEDOUT|Connection in subscriber mode|LOADING|READONLY|MASTERDOWN|^OOM /i.test(
    err.message,
  );
}

/** Rejects with a `DeadlineError` when `promise` takes longer than `ms` (a hung Redis must not hang a request). */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  // One promise and one timer per call (not a race of two plus a finally): it is on every request.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new Error(`no answer from Redis within ${ms} ms`);
      err.name = 'DeadlineError';
      reject(err);
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Fastify error codes we answer with a specific catalog code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_VALIDATION: 'VALIDATION_ERROR',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
};

/**
 * The API's error handler: catalog errors keep their code; validation errors
 * name each field; Redis outages are 503; anything else is logged with the
 * request id and answered 500 with that id, never with a stack or an internal message.
 */
export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof TaskApiError) return sendError(reply, error.code, error.message, error.details);

  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const details = error.validation.map((v) => {
      const path = v.instancePath
        .split('/')
        .filter(Boolean)
        .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
      // A strict object names the unexpected key in `keys`, not in the path.
      const keys = (v.params as { keys?: string[] }).keys;
      const field = formatPath(keys?.length ? [...path, keys[0]!] : path) || where;
      return { field, message: v.message ?? 'invalid', code: v.keyword };
    });
    const first = details[0];
    return sendError(
      reply,
      'VALIDATION_ERROR',
      first ? `${first.field}: ${first.message}` : 'invalid request',
      details,
    );
  }

  if (isRedisUnavailable(error)) {
    request.log.warn({ err: error.message, api_key: request.apiKey?.name }, 'redis unavailable');
    return sendError(
      reply,
      'QUEUE_UNAVAILABLE',
      'the task queue is unavailable; nothing was queued, retry later',
    );
  }

  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return sendError(reply, mapped, publicMessage(mapped, error));
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return sendError(reply, error.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', 'bad request');
  }

  request.log.error({ err: error, api_key: request.apiKey?.name }, 'unexpected error');
  const body: ErrorBody = {
    error: {
      code: 'INTERNAL_ERROR',
      message: `internal error; quote request id ${request.id}`,
      request_id: request.id,
    },
  };
  return reply.code(500).send(body);
}

function publicMessage(code: ErrorCode, error: FastifyError): string {
  switch (code) {
    case 'INVALID_JSON':
      return 'the body is not valid JSON';
    case 'PAYLOAD_TOO_LARGE':
      return 'the body is larger than the limit';
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 'unsupported Content-Type; send application/json';
    default:
      return error.message.slice(0, 200);
  }
}
