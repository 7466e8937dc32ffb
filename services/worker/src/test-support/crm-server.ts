import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';

/** One request the test CRM received. */
export interface CrmRequest {
  idempotencyKey: string | undefined;
  authorization: string | undefined;
  body: { event: string; delivery_id: string; lead: Record<string, unknown> } & Record<string, unknown>;
  status: number;
}

/**
 * A real HTTP server standing in for the CRM: it stores each delivery under
 * its `Idempotency-Key` (a key seen before is acknowledged, not stored again)
 * and answers with whatever `answer` says for the nth request.
 */
export interface CrmServer {
  url: string;
  requests: CrmRequest[];
  /** Deliveries stored, by idempotency key. */
  stored: Map<string, CrmRequest['body']>;
  close(): Promise<void>;
}

export async function startCrmServer(
  answer: (n: number, body: CrmRequest['body']) => number = () => 201,
): Promise<CrmServer> {
  const requests: CrmRequest[] = [];
  const stored = new Map<string, CrmRequest['body']>();
  const server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req)) as CrmRequest['body'];
    const key = header(req, 'idempotency-key');
    // Stored first, answered second: a 500 here is "the CRM saved it, then failed to say so".
    if (key && !stored.has(key)) stored.set(key, body);
    const status = answer(requests.length + 1, body);
    requests.push({ idempotencyKey: key, authorization: header(req, 'authorization'), body, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(status < 300 ? { ok: true } : { error: 'boom' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/api/leads`,
    requests,
    stored,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
