import helmet from 'helmet';

/**
 * The security headers helmet sets with its defaults (nosniff, HSTS,
 * frame-ancestors via X-Frame-Options, referrer policy, cross-origin
 * policies, …), with its content security policy off: each UI (docs,
 * dashboard) sets its own. Without a CSP they are the same for every
 * answer, so they are computed once here, by running helmet's middleware
 * against a recorder, and copied onto each reply; running helmet per request
 * was about 6% of an enqueue's CPU.
 */
export function staticSecurityHeaders(): Readonly<Record<string, string>> {
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
  helmet({ contentSecurityPolicy: false })(
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
