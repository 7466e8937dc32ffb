export { loadWorkerSettings, type WorkerSettings, workerSettingsSchema } from './env.js';
export { PermanentTaskError } from './errors/permanent-task-error.js';
export { TaskTimeoutError } from './errors/task-timeout-error.js';
export { builtinRegistry, type HandlerDeps } from './handlers/index.js';
export { Heartbeat, type HeartbeatOptions, heartbeatAgeSeconds } from './heartbeat.js';
export { type RegisteredTask, type TaskContext, type TaskHandler, TaskRegistry } from './task-registry.js';
export { TaskWorker, type TaskWorkerEvents, type TaskWorkerOptions } from './task-worker.js';
export {
  runWorkerMain,
  type StartWorkerOptions,
  startWorkerProcess,
  type WorkerProcess,
} from './worker-process.js';
