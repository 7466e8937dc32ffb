/**
 * A real worker process serving the test tasks, for tests that send it
 * signals, kill it or measure its memory. Settings come from the environment
 * like the production worker; `record_run` and `poison` count their runs
 * through a connection of their own.
 */
import { appendFileSync } from 'node:fs';
import { createRedisConnection, redisSettingsFrom } from '@solar-tasks/queue';
import { installMemoryProbe } from '@solar-tasks/testing/memory-probe';
import { loadWorkerSettings } from '../env.js';
import { runWorkerMain } from '../worker-process.js';
import { testRegistry } from './test-tasks.js';

const settings = loadWorkerSettings();
const recorder = createRedisConnection(redisSettingsFrom(settings), 'worker');
// With RUN_LOG set, every run is appended there as one JSON line with this
// process's pid, so a test can tell which process ran what (and how often).
const runLog = process.env.RUN_LOG;
const { registry, catalog } = testRegistry([], {
  redis: recorder,
  logRuns: false,
  onRun: runLog
    ? (run) => appendFileSync(runLog, `${JSON.stringify({ ...run, pid: process.pid })}\n`)
    : undefined,
});
installMemoryProbe();
await runWorkerMain(() => settings, { registry, catalog });
