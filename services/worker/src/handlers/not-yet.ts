import { PermanentTaskError } from '../errors/permanent-task-error.js';
import type { TaskHandler } from '../task-registry.js';

/** A handler for a task whose implementation has not landed: fails at once, saying so. */
export function notImplemented(name: string): TaskHandler {
  return () => {
    throw new PermanentTaskError(`${name} is not implemented in this release`);
  };
}
