import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does with one request:
 * - `forward`: pass it on and relay the answer;
 * - `drop`: pass it on, then cut the connection without relaying the answer
 *   (the request took effect, the caller never hears: a lost answer);
 * - `unavailable`: answer 503 `QUEUE_UNAVAILABLE` itself, as the API does while Redis is down;
 * - `html`: answer 502 with an HTML page, as a load balancer does.
 */
export type ProxyAction = 'forward' | 'drop' | 'unavailable' | 'html';

/** One request the proxy saw. */
export interface ProxiedRequest {
  method: string;
  path: string;
  body: string;
  action: ProxyAction;
  /** The API's answer, when the request was passed on. */
  upstreamStatus?: number;
  upstreamBody?: string;
}

/** A loopback HTTP proxy in front of the API that loses answers on purpose. */
export interface LossyProxy {
  url: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a proxy to `upstream` on a free loopback port. Requests take the
 * actions of `plan` in order, then `forward`. A real network path for the
 * client's repeat logic, with the real API behind it.
 */
export async function startLossyProxy(upstream: string, plan: ProxyAction[] = []): Promise<LossyProxy> {
  const queue = [...plan];
  const requests: ProxiedRequest[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const action = queue.shift() ?? 'forward';
    const seen: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', body, action };
    requests.push(seen);
    if (action === 'unavailable') {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: 'QUEUE_UNAVAILABLE', message: 'the task queue is unavailable' } }),
      );
      return;
    }
    if (action === 'html') {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of ['authorization', 'x-api-key', 'content-type', 'accept', 'idempotency-key']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const answer = await fetch(`${upstream}${req.url}`, {
      method: req.method,
      headers,
      body: body === '' ? undefined : body,
    });
    seen.upstreamStatus = answer.status;
    seen.upstreamBody = await answer.text();
    if (action === 'drop') {
      req.socket.destroy();
      return;
    }
    const out: Record<string, string> = {};
    for (const name of ['content-type', 'x-request-id', 'retry-after']) {
      const value = answer.headers.get(name);
      if (value !== null) out[name] = value;
    }
    res.writeHead(answer.status, out);
    res.end(seen.upstreamBody);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
