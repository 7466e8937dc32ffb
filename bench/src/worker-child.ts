// A worker process of the bench (latency and scaling runs): `ours` or `raw`.
// Argv: <ours|raw> <redisUrl> <concurrency> <logFile>. Waits for {type:'go'}.
import type { ChildMessage } from './common.js';
import { oursWorker, rawWorker } from './workers.js';

const [kind, redisUrl, concurrency, logFile] = process.argv.slice(2) as [string, string, string, string];
const worker =
  kind === 'ours'
    ? oursWorker(redisUrl, Number(concurrency), logFile)
    : rawWorker(redisUrl, Number(concurrency));
const send = (m: ChildMessage) => process.send?.(m);

process.on('message', async (m: { type: string }) => {
  if (m.type === 'go') await worker.start();
  if (m.type === 'report') send({ type: 'samples', ...worker.samples });
  if (m.type === 'reset') {
    // After the warm-up: its samples are not counted.
    worker.samples.latency.length = 0;
    worker.samples.lateness.length = 0;
    worker.samples.starts.length = 0;
    send({ type: 'reset' });
  }
  if (m.type === 'stop') {
    await worker.close();
    process.exit(0);
  }
});
send({ type: 'ready' });
