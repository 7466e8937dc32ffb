import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ApiKey, matchApiKey } from '../api-keys.js';
import { sendError } from '../errors.js';
import { presentedKey } from './auth.js';
import { LoginThrottle } from './login-throttle.js';

/** The realm browsers show in their login prompt. */
export const ADMIN_REALM = 'solar-tasks admin';

/** Who may use the operator routes (dashboard, metrics). */
export interface AdminAuthOptions {
  apiKeys: readonly ApiKey[];
  /** `ADMIN_USERNAME`; with `password`, enables HTTP Basic login. */
  username?: string | undefined;
  /** `ADMIN_PASSWORD`. */
  password?: string | undefined;
  /** A bearer token accepted besides the above (`METRICS_TOKEN`, for `/metrics` only). */
  token?: string | undefined;
  /** Counts failed logins per client IP; one is made with defaults when unset. */
  throttle?: LoginThrottle | undefined;
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const NOTHING = sha256('\0no credential configured\0');

/**
 * An onRequest hook for operator routes. A request passes with HTTP Basic
 * credentials equal to `ADMIN_USERNAME`/`ADMIN_PASSWORD`, with an API key
 * holding the `admin` scope, or (when given) with `token` as a bearer.
 * Secrets are compared as SHA-256 digests in constant time, and both halves
 * of a Basic login are always compared. Anything else is a 401 carrying
 * `WWW-Authenticate: Basic` (so a browser asks for a login); a known API key
 * without the scope is a 403. With nothing configured, every request is a 401.
 */
export function requireAdmin(opts: AdminAuthOptions) {
  const basic =
    opts.username && opts.password ? { user: sha256(opts.username), pass: sha256(opts.password) } : undefined;
  const token = opts.token ? sha256(opts.token) : undefined;
  const throttle = opts.throttle ?? new LoginThrottle();

  const challenge = (reply: FastifyReply, message: string) => {
    reply.header('WWW-Authenticate', `Basic realm="${ADMIN_REALM}", charset="UTF-8"`);
    return sendError(reply, 'UNAUTHORIZED', message);
  };
  // A wrong login counts against the client's IP. A Redis hiccup must not lock operators out
  // (nor let the request through unchecked for long: the route itself needs Redis too).
  const deny = async (request: FastifyRequest, reply: FastifyReply, message: string) => {
    await throttle.fail(request.ip).catch(() => {});
    return challenge(reply, message);
  };

  return async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers.authorization;
    if (header !== undefined || request.headers['x-api-key'] !== undefined) {
      const waitMs = await throttle.blockedForMs(request.ip).catch(() => 0);
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        reply.header('Retry-After', String(seconds));
        return sendError(reply, 'RATE_LIMITED', `too many failed logins; retry in ${seconds} s`, {
          limit: throttle.max,
          retry_after_seconds: seconds,
        });
      }
    }
    const basicMatch = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (basicMatch) {
      const decoded = Buffer.from(basicMatch[1]!, 'base64').toString('utf8');
      const cut = decoded.indexOf(':');
      const user = cut >= 0 ? decoded.slice(0, cut) : decoded;
      const pass = cut >= 0 ? decoded.slice(cut + 1) : '';
      const userOk = timingSafeEqual(sha256(user), basic?.user ?? NOTHING);
      const passOk = timingSafeEqual(sha256(pass), basic?.pass ?? NOTHING);
      if (!basic || !userOk || !passOk) return deny(request, reply, 'wrong admin username or password');
      request.log = request.log.child({ admin: user });
      return;
    }
    const presented = presentedKey(request);
    if (presented === undefined) return challenge(reply, 'admin credentials are required');
    if (token && timingSafeEqual(sha256(presented), token)) {
      request.log = request.log.child({ admin: 'metrics-token' });
      return;
    }
    const key = matchApiKey(opts.apiKeys, presented);
    if (!key) return deny(request, reply, 'unknown API key');
    request.apiKey = key;
    request.log = request.log.child({ api_key: key.name });
    if (!key.scopes.has('admin')) return sendError(reply, 'FORBIDDEN', 'this key lacks the "admin" scope');
  };
}
