import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTask, resolveDefaults } from './define-task.js';
import { TaskCatalog } from './task-catalog.js';
import { builtinTasks } from './tasks/index.js';

describe('defineTask', () => {
  it('records positional parameters in declaration order', () => {
    const t = defineTask({ name: 'x', description: 'd', args: z.object({ b: z.string(), a: z.number() }) });
    expect(t.parameters).toEqual(['b', 'a']);
    expect(t.queue).toBe('default');
  });

  it('refuses bad names, queues and defaults at definition time', () => {
    expect(() => defineTask({ name: 'Bad-Name', description: 'd', args: z.object({}) })).toThrow(/task name/);
    expect(() => defineTask({ name: 'ok', description: 'd', args: z.object({}), queue: 'a:b' })).toThrow(
      /queue/,
    );
    expect(() =>
      defineTask({ name: 'ok', description: 'd', args: z.object({}), defaults: { priority: 0 } }),
    ).toThrow(/priority/);
  });

  it('fills defaults from settings and the seed', () => {
    const t = defineTask({ name: 'x', description: 'd', args: z.object({}), defaults: { timeout: 5 } });
    expect(resolveDefaults(t, { priority: 3 })).toEqual({
      priority: 3,
      maxRetries: 3,
      retryDelay: 60,
      timeout: 5,
      jitter: 0,
    });
  });
});

describe('built-in tasks', () => {
  it('are the seed’s four, with JSON-schema-able argument schemas', () => {
    const catalog = new TaskCatalog(builtinTasks);
    expect(catalog.names()).toEqual([
      'generate_report',
      'process_emailjs_submission',
      'process_lead',
      'send_email',
    ]);
    for (const t of builtinTasks) {
      expect(z.toJSONSchema(t.args, { io: 'input', unrepresentable: 'any' })).toHaveProperty('properties');
    }
  });

  it('refuses a catalog with the same name twice', () => {
    expect(() => new TaskCatalog([builtinTasks[0]!, builtinTasks[0]!])).toThrow(/twice/);
  });
});
