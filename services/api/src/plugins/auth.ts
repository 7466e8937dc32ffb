import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { type ApiKey, matchApiKey, type Scope } from '../api-keys.js';
import { sendError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key that authenticated this request, if any. */
    apiKey?: ApiKey;
  }
}

/** Reads the presented key: `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : undefined;
}

/**
 * An onRequest hook (auth runs before the body is parsed or validated) requiring an API key with `scope`: 401 for a missing or
 * unknown key, 403 for a key without the scope. The key's name (never the
 * key) goes into the request's log lines.
 */
export function requireScope(keys: readonly ApiKey[], scope: Scope) {
  // A callback hook, not an async one: it never waits, and an async hook costs a promise per request.
  const guard = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    // The rate-limit hook has usually matched the key already: read and match it only if not.
    let key = request.apiKey;
    if (!key) {
      const presented = presentedKey(request);
      key = presented === undefined ? undefined : matchApiKey(keys, presented);
      if (!key) {
        reply.header('WWW-Authenticate', 'Bearer realm="solar-tasks"');
        // Answered here: Fastify runs nothing further for a hook that sends and does not call done.
        sendError(
          reply,
          'UNAUTHORIZED',
          presented === undefined ? 'an API key is required' : 'unknown API key',
        );
        return;
      }
      request.apiKey = key;
    }
    // No child logger per request (it costs on every call): the request's one
    // log line names the key (see app.ts), as do the error lines.
    if (!key.scopes.has(scope)) {
      sendError(reply, 'FORBIDDEN', `this key lacks the "${scope}" scope`);
      return;
    }
    done();
  };
  // The route table reads it: every API-key route must name its scope (see route-table.ts).
  return Object.assign(guard, { scope });
}
