import { describe, expect, it } from 'vitest';
import { taskListQuerySchema } from './operations.js';
import { taskIdSchema } from './rest.js';

describe('taskIdSchema', () => {
  it('accepts UUIDs and the ids of scheduled runs, and nothing else', () => {
    for (const id of [
      '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab',
      'repeat:daily-report:1764300000000',
      'repeat:a:1',
    ])
      expect(taskIdSchema.safeParse(id).success, id).toBe(true);
    for (const id of [
      '',
      'not-a-uuid',
      'repeat:Daily:1',
      'repeat:daily:',
      'repeat:daily:12x',
      'repeat:../etc:1',
      'repeat::1',
      `repeat:${'a'.repeat(65)}:1`,
      'repeat:daily:12345678901234567',
    ])
      expect(taskIdSchema.safeParse(id).success, id).toBe(false);
  });
});

describe('taskListQuerySchema', () => {
  it('defaults the limit to 50, coerces it from the query string and bounds it to 1–500', () => {
    expect(taskListQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(taskListQuerySchema.parse({ limit: '500', status: 'failed' })).toEqual({
      limit: 500,
      status: 'failed',
    });
    for (const limit of ['0', '501', '1.5', 'ten'])
      expect(taskListQuerySchema.safeParse({ limit }).success, limit).toBe(false);
    expect(taskListQuerySchema.safeParse({ status: 'done' }).success).toBe(false);
    expect(taskListQuerySchema.safeParse({ sort: 'asc' }).success).toBe(false);
  });
});
