#!/usr/bin/env node
import { loadWorkerSettings } from './env.js';
import { runWorkerMain } from './worker-process.js';

await runWorkerMain(() => loadWorkerSettings());
