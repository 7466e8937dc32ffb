export * from './builtin-worker.js';
export * from './test-tasks.js';
