export * from './test-tasks.js';
