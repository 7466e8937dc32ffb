import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask } from './define-task.js';
import { EnqueuePlanError, planEnqueue } from './enqueue-plan.js';

const task = defineTask({ name: 't', description: 'd', args: z.object({}), defaults: { maxRetries: 1 } });

describe('planEnqueue', () => {
  it('takes request values first, then task defaults, then settings, then the seed', () => {
    expect(planEnqueue(task, { priority: 2 }, { priority: 7, maxRetries: 9, retryDelay: 5 })).toMatchObject({
      priority: 2,
      maxRetries: 1,
      retryDelay: 5,
      timeout: 30,
      delayMs: 0,
    });
  });

  it('turns countdown into a delay and a past eta into "now"', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(planEnqueue(task, { countdown: 1.5 }, {}, now).delayMs).toBe(1500);
    expect(planEnqueue(task, { eta: '2026-01-01T00:00:10Z' }, {}, now).delayMs).toBe(10_000);
    expect(planEnqueue(task, { eta: '2025-01-01T00:00:00Z' }, {}, now).delayMs).toBe(0);
  });

  it('refuses eta and countdown together, naming countdown', () => {
    expect(() => planEnqueue(task, { eta: '2026-01-01T00:00:00Z', countdown: 1 })).toThrow(EnqueuePlanError);
  });
});
