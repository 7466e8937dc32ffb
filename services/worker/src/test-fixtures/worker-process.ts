/**
 * A real worker process serving the test tasks, for tests that send it
 * signals. Settings come from the environment like the production worker.
 */
import { appendFileSync } from 'node:fs';
import { loadWorkerSettings } from '../env.js';
import { runWorkerMain } from '../worker-process.js';
import { testRegistry } from './test-tasks.js';

// With RUN_LOG set, every run is appended there as one JSON line with this
// process's pid, so a test can tell which process ran what (and how often).
const runLog = process.env.RUN_LOG;
const { registry, catalog } = testRegistry([], (run) => {
  if (runLog) appendFileSync(runLog, `${JSON.stringify({ ...run, pid: process.pid })}\n`);
});
await runWorkerMain(() => loadWorkerSettings(), { registry, catalog });
