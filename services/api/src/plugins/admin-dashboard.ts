import { createHash, timingSafeEqual } from 'node:crypto';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { TaskQueue } from '@solar-tasks/queue';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { type ApiKey, matchApiKey } from '../api-keys.js';
import { sendError } from '../errors.js';
import { presentedKey } from './auth.js';

/** Where the dashboard lives. */
export const ADMIN_PATH = '/admin';

/** The realm browsers show in their login prompt. */
export const ADMIN_REALM = 'solar-tasks admin';

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
export interface AdminDashboardOptions {
  queue: TaskQueue;
  apiKeys: readonly ApiKey[];
  /** `ADMIN_USERNAME`; with `password`, enables HTTP Basic login. */
  username?: string | undefined;
  /** `ADMIN_PASSWORD`. */
  password?: string | undefined;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * The admin dashboard (bull-board) at `/admin`: every queue of the task
 * queue, tasks by status, details, retry, remove, promote, clean.
 *
 * Closed by default. A request passes with HTTP Basic credentials equal to
 * `ADMIN_USERNAME`/`ADMIN_PASSWORD` (compared in constant time), or with an
 * API key holding the `admin` scope. Anything else is a 401 carrying
 * `WWW-Authenticate: Basic` (so a browser asks for a login); a known API key
 * without the scope is a 403. With neither credentials nor admin keys
 * configured, every request is a 401.
 */
export const adminDashboard: FastifyPluginAsync<AdminDashboardOptions> = async (app, opts) => {
  const basic =
    opts.username && opts.password ? { user: sha256(opts.username), pass: sha256(opts.password) } : undefined;

  const deny = (reply: FastifyReply, message: string) => {
    reply.header('WWW-Authenticate', `Basic realm="${ADMIN_REALM}", charset="UTF-8"`);
    return sendError(reply, 'UNAUTHORIZED', message);
  };

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    const basicMatch = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (basicMatch) {
      const decoded = Buffer.from(basicMatch[1]!, 'base64').toString('utf8');
      const cut = decoded.indexOf(':');
      const user = cut >= 0 ? decoded.slice(0, cut) : decoded;
      const pass = cut >= 0 ? decoded.slice(cut + 1) : '';
      // Both digests are always compared, so timing tells neither which half was wrong nor whether any is set.
      const userOk = timingSafeEqual(sha256(user), basic?.user ?? sha256('\0'));
      const passOk = timingSafeEqual(sha256(pass), basic?.pass ?? sha256('\0'));
      if (!basic || !userOk || !passOk) return deny(reply, 'wrong admin username or password');
      request.log = request.log.child({ admin: user });
      return;
    }
    const presented = presentedKey(request);
    if (presented === undefined) return deny(reply, 'admin credentials are required');
    const key = matchApiKey(opts.apiKeys, presented);
    if (!key) return deny(reply, 'unknown API key');
    request.apiKey = key;
    request.log = request.log.child({ api_key: key.name });
    if (!key.scopes.has('admin')) return sendError(reply, 'FORBIDDEN', 'this key lacks the "admin" scope');
  });

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
