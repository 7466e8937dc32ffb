import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsync } from 'fastify';
import { type AdminAuthOptions, requireAdmin } from './admin-auth.js';

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
  app.addHook('onRequest', requireAdmin(opts));

  // helmet runs globally with its CSP off; the dashboard gets its own policy and no caching of its pages.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', ADMIN_CSP);
    reply.header('x-frame-options', 'DENY');
    if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
    reply.header('cache-control', 'no-store');
    return payload;
  });

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(ADMIN_PATH);
  createBullBoard({
    queues: opts.queue.queueNames().map((name) => new BullMQAdapter(opts.queue.bullQueue(name))),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Solar Tasks' } },
  });
  await app.register(serverAdapter.registerPlugin() as unknown as FastifyPluginAsync);
};
