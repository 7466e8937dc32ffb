// An API process of the bench: `ours` (the real app: auth, rate limits in
// Redis, validation, logging at info to a file) or `bare` (Fastify routes that
// call BullMQ's add/addBulk with no checks, with the same job options). Argv: <ours|bare> <redisUrl> <logFile>.
import { buildApp, parseApiKeys } from '@solar-tasks/api';
import { createLogger } from '@solar-tasks/runtime';
import Fastify from 'fastify';
import { API_KEY, type ChildMessage, now, PREFIX, RAW_JOB_OPTIONS } from './common.js';
import { oursQueue, rawQueue } from './workers.js';

const [kind, redisUrl, logFile] = process.argv.slice(2) as [string, string, string];
const send = (m: ChildMessage) => process.send?.(m);

async function ours() {
  const { queue, connection } = oursQueue(redisUrl);
  await queue.waitUntilReady();
  const logger = createLogger({
    name: 'api',
    level: 'info',
    dest: logFile,
  });
  const app = await buildApp({
    queue,
    apiKeys: parseApiKeys(`bench:${API_KEY}`, ''),
    logger,
    limits: {
      redis: connection,
      nameSpace: `${PREFIX}:rate-limit:`,
      perKeyMax: 100_000_000,
      perIpMax: 100_000_000,
    },
  });
  return app;
}

async function bare() {
  const { queue } = rawQueue(redisUrl);
  await queue.waitUntilReady();
  const app = Fastify({ bodyLimit: 8 * 1024 * 1024 });
  app.post('/api/tasks/enqueue/', async (request, reply) => {
    const body = request.body as { task_name: string };
    const job = await queue.add(body.task_name, body, RAW_JOB_OPTIONS);
    return reply.code(201).send({ task_id: job.id, task_name: body.task_name, status: 'pending' });
  });
  app.post('/api/tasks/enqueue-bulk/', async (request, reply) => {
    const { tasks } = request.body as { tasks: { task_name: string }[] };
    const jobs = await queue.addBulk(
      tasks.map((t) => ({ name: t.task_name, data: t, opts: RAW_JOB_OPTIONS })),
    );
    return reply.code(201).send({ tasks: jobs.map((j) => ({ task_id: j.id })) });
  });
  return app;
}

const app = kind === 'ours' ? await ours() : await bare();
// Latency runs: when each request arrived (its headers parsed, before Fastify sees it), by the
// task number the client sends in X-Bench-N; the bench matches them with handler start times.
const arrivals: [n: number, at: number][] = [];
app.server.prependListener('request', (req) => {
  const n = req.headers['x-bench-n'];
  if (typeof n === 'string') arrivals.push([Number(n), now()]);
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
send({ type: 'ready', port: Number(new URL(address).port) });
process.on('message', async (m: { type: string }) => {
  if (m.type === 'arrivals') send({ type: 'arrivals', arrivals: arrivals.splice(0) });
  if (m.type === 'stop') {
    await app.close();
    process.exit(0);
  }
});
