import { startRedisServer } from '@solar-tasks/testing';
import { oursQueue, oursWorker, rawQueue, rawWorker } from './workers.js';

const kind = process.argv[2] ?? 'ours';
const N = 10000;
const C = Number(process.argv[3] ?? 10);
const redis = await startRedisServer();
if (kind === 'ours') {
  const { queue, connection } = oursQueue(redis.url);
  await queue.waitUntilReady();
  for (let i = 0; i < N; i += 1000)
    await queue.enqueueBulk(
      Array.from({ length: 1000 }, (_, n) => ({ task_name: 'bench_noop', kwargs: { n } })),
    );
  await queue.close();
  connection.disconnect();
} else {
  const { queue, connection } = rawQueue(redis.url);
  const opts =
    kind === 'rawprio'
      ? { priority: 5 }
      : kind === 'rawopts'
        ? {
            priority: 5,
            attempts: 1,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: { age: 604800 },
            removeOnFail: { age: 604800 },
          }
        : {};
  for (let i = 0; i < N; i += 1000)
    await queue.addBulk(Array.from({ length: 1000 }, (_, n) => ({ name: 'bench_noop', data: { n }, opts })));
  await queue.close();
  connection.disconnect();
}
const w = kind === 'ours' ? oursWorker(redis.url, C, '/tmp/prof/w.log') : rawWorker(redis.url, C);
const t0 = performance.now();
await w.start();
while (w.completed < N) await new Promise((r) => setTimeout(r, 5));
console.log(kind, Math.round(N / ((performance.now() - t0) / 1000)), 'tasks/s');
await w.close();
await redis.stop({ removeData: true });
