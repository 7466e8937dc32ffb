/**
 * A real API process that accepts the worker's test tasks, for tests that
 * kill its Redis or measure its memory. Settings come from the environment
 * like the production API.
 */
import { installMemoryProbe } from '@solar-tasks/testing/memory-probe';
import { testRegistry } from '@solar-tasks/worker/test-fixtures';
import { runApiMain } from '../api-process.js';
import { loadApiSettings } from '../env.js';

installMemoryProbe();
await runApiMain(() => loadApiSettings(), { catalog: testRegistry().catalog });
