import { resolveDefaults, type TaskDefaults, type TaskDefinition } from './define-task.js';

/** What a caller may override per task (the REST body's scheduling fields). */
export interface EnqueueOverrides {
  priority?: number | undefined;
  max_retries?: number | undefined;
  retry_delay?: number | undefined;
  /** ISO-8601 instant. */
  eta?: string | undefined;
  /** Seconds from now. */
  countdown?: number | undefined;
}

/** The resolved scheduling of one task: what the queue needs, in its units. */
export interface EnqueuePlan {
  priority: number;
  maxRetries: number;
  /** Seconds. */
  retryDelay: number;
  jitter: number;
  /** Seconds. */
  timeout: number;
  /** Milliseconds from `now` until the first run (0 = now). */
  delayMs: number;
}

/** Thrown when scheduling fields contradict each other; `field` names the culprit. */
export class EnqueuePlanError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'EnqueuePlanError';
  }
}

/**
 * Resolves a task's scheduling: request values win, then the task's declared
 * defaults, then the deployment's settings, then the seed's. `eta` in the past
 * means "now".
 */
export function planEnqueue(
  task: Pick<TaskDefinition, 'defaults'>,
  overrides: EnqueueOverrides,
  settings: Partial<TaskDefaults> = {},
  now: number = Date.now(),
): EnqueuePlan {
  if (overrides.eta !== undefined && overrides.countdown !== undefined) {
    throw new EnqueuePlanError('countdown', 'give either eta or countdown, not both');
  }
  const defaults = defaultsOf(task, settings);
  let delayMs = 0;
  if (overrides.countdown !== undefined) delayMs = Math.round(overrides.countdown * 1000);
  if (overrides.eta !== undefined) {
    const at = Date.parse(overrides.eta);
    if (Number.isNaN(at)) throw new EnqueuePlanError('eta', 'eta is not a valid ISO-8601 instant');
    delayMs = Math.max(0, at - now);
  }
  return {
    priority: overrides.priority ?? defaults.priority,
    maxRetries: overrides.max_retries ?? defaults.maxRetries,
    retryDelay: overrides.retry_delay ?? defaults.retryDelay,
    jitter: defaults.jitter,
    timeout: defaults.timeout,
    delayMs,
  };
}

/** Resolved defaults by task and settings object: both are fixed for a process, and this is on every enqueue's path. */
const resolved = new WeakMap<object, WeakMap<object, TaskDefaults>>();

function defaultsOf(task: Pick<TaskDefinition, 'defaults'>, settings: Partial<TaskDefaults>): TaskDefaults {
  let bySettings = resolved.get(task.defaults);
  if (!bySettings) {
    bySettings = new WeakMap();
    resolved.set(task.defaults, bySettings);
  }
  let defaults = bySettings.get(settings);
  if (!defaults) {
    defaults = Object.freeze(resolveDefaults(task, settings));
    bySettings.set(settings, defaults);
  }
  return defaults;
}
