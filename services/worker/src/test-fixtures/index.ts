export * from '../test-support/smtp-sink.js';
export * from './builtin-worker.js';
export * from './test-tasks.js';
