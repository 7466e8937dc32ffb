import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commonSettingsShape, parseSettings, SettingsError, setting } from './settings.js';

const schema = z.object({ ...commonSettingsShape, WORKER_CONCURRENCY: setting.int(1, 1000).default(10) });

describe('parseSettings', () => {
  it('fills the seed’s defaults when nothing is set', () => {
    expect(parseSettings(schema, {})).toMatchObject({
      REDIS_PREFIX: 'solar',
      TASK_DEFAULT_PRIORITY: 5,
      TASK_DEFAULT_MAX_RETRIES: 3,
      TASK_DEFAULT_RETRY_DELAY: 60,
      TASK_CLEANUP_DAYS: 7,
      WORKER_CONCURRENCY: 10,
    });
  });

  it('treats empty strings as unset', () => {
    expect(parseSettings(schema, { WORKER_CONCURRENCY: '' }).WORKER_CONCURRENCY).toBe(10);
  });

  it('names every bad variable in one message', () => {
    let error: unknown;
    try {
      parseSettings(schema, {
        WORKER_CONCURRENCY: 'ten',
        REDIS_URL: 'http://x',
        TASK_DEFAULT_PRIORITY: '11',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SettingsError);
    const message = (error as Error).message;
    expect(message).toContain('WORKER_CONCURRENCY: must be a number');
    expect(message).toContain('REDIS_URL: must be a redis:// or rediss:// URL');
    expect(message).toContain('TASK_DEFAULT_PRIORITY: must be at most 10');
  });
});
