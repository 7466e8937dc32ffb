import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ERROR_CODES, TaskCatalog } from '@solar-tasks/contract';
import { createRedisConnection, TaskQueue } from '@solar-tasks/queue';
import { testRedisUrl, uniquePrefix } from '@solar-tasks/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app.js';

describe('the error catalog', () => {
  it('documents every code in the README’s error table', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const undocumented = Object.keys(ERROR_CODES).filter((code) => !readme.includes(`| \`${code}\` |`));
    expect(undocumented).toEqual([]);
  });

  it('answers an unexpected error with 500 and a request id, logs it with that id, and leaks nothing', async () => {
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _e, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const prefix = uniquePrefix('err');
    const redis = createRedisConnection({ url: testRedisUrl(), prefix }, 'api');
    const queue = new TaskQueue({ connection: redis, prefix, catalog: new TaskCatalog([]) });
    const app = await buildApp({ queue, apiKeys: [], logger });
    app.get('/boom', { config: { auth: 'public' } }, () => {
      throw new Error('internal detail: /etc/shadow at db.internal:5432');
    });
    try {
      const res = await app.inject({ method: 'GET', url: '/boom' });
      expect(res.statusCode).toBe(500);
      const body = res.json() as { error: { code: string; message: string; request_id: string } };
      expect(body.error.code).toBe('INTERNAL_ERROR');
      expect(body.error.request_id).toBe(res.headers['x-request-id']);
      expect(res.body).not.toContain('internal detail');
      expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+/);
      expect(lines.some((l) => l.includes(body.error.request_id) && l.includes('internal detail'))).toBe(
        true,
      );
    } finally {
      await app.close();
      await queue.close();
      redis.disconnect();
    }
  });
});
