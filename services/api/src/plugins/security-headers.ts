import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import helmet from 'helmet';

type HelmetOptions = NonNullable<Parameters<typeof helmet>[0]>;

/**
 * helmet's headers that only mean something to a browser rendering a page
 * (opener isolation, agent clustering, the referrer a page's links and
 * subresources send, DNS prefetching of its links, IE8's download prompt,
 * the legacy XSS auditor). A JSON answer read by `fetch` or a client has no
 * links, subresources, popups or scripts for them to act on.
 */
const PAGE_ONLY: HelmetOptions = {
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xXssProtection: false,
};

/**
 * The headers helmet sets with `options`, recorded once by running its
 * middleware against a recorder: they never vary, so each answer copies them
 * instead of running helmet (which was about 6% of an enqueue's CPU).
 */
function recordHelmet(options: HelmetOptions): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let called = false;
  helmet(options)(
    {} as Parameters<ReturnType<typeof helmet>>[0],
    recorder as unknown as Parameters<ReturnType<typeof helmet>>[1],
    (err?: unknown) => {
      if (err) throw err;
      called = true;
    },
  );
  // helmet's middleware is synchronous; if a future version is not, fail at start, not per request.
  if (!called || Object.keys(headers).length === 0)
    throw new Error('helmet did not set its headers synchronously');
  return Object.freeze(headers);
}

/**
 * On every answer: helmet's defaults, with its content security policy off
 * (each UI sets its own) and without the page-only headers: nosniff, HSTS,
 * `X-Frame-Options`, `Cross-Origin-Resource-Policy: same-origin`,
 * `X-Permitted-Cross-Domain-Policies: none`.
 */
export const API_SECURITY_HEADERS = recordHelmet({ contentSecurityPolicy: false, ...PAGE_ONLY });

/** Added on the pages (Swagger UI, the dashboard): the rest of helmet's defaults. */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(recordHelmet({ contentSecurityPolicy: false })).filter(
      ([name]) => !(name in API_SECURITY_HEADERS),
    ),
  ),
);

/** An `onRequest` hook for a page area's scope: adds {@link PAGE_SECURITY_HEADERS}. */
export function pageSecurityHeaders(
  _request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  reply.headers(PAGE_SECURITY_HEADERS);
  done();
}
