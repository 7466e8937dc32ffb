/**
 * A real worker process serving the test tasks, for tests that send it
 * signals, kill it or measure its memory. Settings come from the environment
 * like the production worker; `record_run` and `poison` count their runs
 * through a connection of their own.
 */
import { createRedisConnection } from '@solar-tasks/queue';
import { installMemoryProbe } from '@solar-tasks/testing/memory-probe';
import { loadWorkerSettings } from '../env.js';
import { runWorkerMain } from '../worker-process.js';
import { testRegistry } from './test-tasks.js';

const settings = loadWorkerSettings();
const recorder = createRedisConnection({ url: settings.REDIS_URL, prefix: settings.REDIS_PREFIX }, 'worker');
const { registry, catalog } = testRegistry([], { redis: recorder, logRuns: false });
installMemoryProbe();
await runWorkerMain(() => settings, { registry, catalog });
