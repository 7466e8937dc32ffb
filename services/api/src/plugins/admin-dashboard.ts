import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { ERROR_CODES, type ErrorCode, TaskApiError } from '@solar-tasks/contract';
import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsync } from 'fastify';
import { isRedisUnavailable } from '../errors.js';
import { type AdminAuthOptions, requireAdmin } from './admin-auth.js';
import { pageSecurityHeaders } from './security-headers.js';

/** Where the dashboard lives. */
export const ADMIN_PATH = '/admin';

/**
 * The dashboard's content security policy: bull-board's UI is a React app
 * served from its own static folder, with inline styles (styled components)
 * and no inline scripts (its config is a `type="application/json"` block).
 * Its Google Fonts link is blocked on purpose: the dashboard calls no third
 * party, and falls back to the system font.
 */
export const ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Catalog codes for the statuses bull-board answers with on its own. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * bull-board's own errors are `{ error: { key } }` or `{ error: "…" }`; the
 * API's are `{ error: { code, message, details? } }`. Adds code and message
 * (keeping bull-board's fields, which its UI reads) so every answer has the
 * one error shape. Our own errors pass unchanged.
 */
function withErrorShape(status: number, payload: string): string {
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  const raw = (body as { error?: unknown } | null)?.error;
  const error = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  if (typeof error.code === 'string' && error.code in ERROR_CODES) return payload;
  const key = typeof error.key === 'string' ? error.key : undefined;
  const message =
    (typeof error.message === 'string' && error.message) ||
    (typeof raw === 'string' && raw) ||
    (key
      ? key
          .replace(/^ERRORS\./, '')
          .toLowerCase()
          .replaceAll('_', ' ')
      : `dashboard request failed (${status})`);
  const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST');
  return JSON.stringify({ ...(body as object), error: { ...error, code, message } });
}

function errorResponse(code: ErrorCode, message: string, details?: unknown) {
  return {
    status: ERROR_CODES[code].status as 500,
    body: { error: { code, message, ...(details === undefined ? {} : { details }) } },
  };
}

/** Options of {@link adminDashboard}. */
export interface AdminDashboardOptions extends AdminAuthOptions {
  queue: TaskQueue;
}

/**
 * The admin dashboard (bull-board) at `/admin`: every queue of the task
 * queue, tasks by status, details, retry, remove, promote, clean. Closed by
 * default: see {@link requireAdmin}.
 */
export const adminDashboard: FastifyPluginAsync<AdminDashboardOptions> = async (app, opts) => {
  // A page: helmet's page-only headers too, on the login challenge as on the UI.
  app.addHook('onRequest', pageSecurityHeaders);
  app.addHook('onRequest', requireAdmin(opts));

  // helmet's headers run with their CSP off; the dashboard gets its own policy and no caching of its pages.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', ADMIN_CSP);
    reply.header('x-frame-options', 'DENY');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) reply.header('cache-control', 'no-store');
    if (reply.statusCode >= 400 && type.startsWith('application/json') && typeof payload === 'string')
      return withErrorShape(reply.statusCode, payload);
    return payload;
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_PATH);
  createBullBoard({
    queues: opts.queue.queueNames().map((name) => new BullMQAdapter(opts.queue.bullQueue(name))),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Solar Tasks' } },
  });
  // bull-board answers any thrown error 500 with its message (and, in development, its stack): map
  // errors like the rest of the API instead (a bad body is a 4xx, Redis down a 503, no internals).
  serverAdapter.setErrorHandler((error: Error & { statusCode?: number }) => {
    if (error instanceof TaskApiError) return errorResponse(error.code, error.message, error.details);
    if (isRedisUnavailable(error))
      return errorResponse('QUEUE_UNAVAILABLE', 'the task queue is unavailable, retry later');
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500)
      return errorResponse(CODE_BY_STATUS[status] ?? 'BAD_REQUEST', error.message.slice(0, 200));
    app.log.error({ err: error }, 'dashboard error');
    return errorResponse('INTERNAL_ERROR', 'internal error in the dashboard');
  });
  await app.register(serverAdapter.registerPlugin() as unknown as FastifyPluginAsync);
};
