/**
 * A real worker process serving the test tasks, for tests that send it
 * signals. Settings come from the environment like the production worker.
 */
import { loadWorkerSettings } from '../env.js';
import { runWorkerMain } from '../worker-process.js';
import { testRegistry } from './test-tasks.js';

const { registry, catalog } = testRegistry();
await runWorkerMain(() => loadWorkerSettings(), { registry, catalog });
