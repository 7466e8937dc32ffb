import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkCommonSettings,
  commonSettingsShape,
  parseSettings,
  SettingsError,
  setting,
} from './settings.js';

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

describe('Redis topology settings', () => {
  const withChecks = schema.superRefine(checkCommonSettings);
  const problems = (env: Record<string, string>) => {
    try {
      parseSettings(withChecks, env);
      return '';
    } catch (err) {
      expect(err).toBeInstanceOf(SettingsError);
      return (err as Error).message;
    }
  };

  it('parses sentinel and cluster endpoint lists, IPv6 in brackets included', () => {
    const s = parseSettings(withChecks, {
      REDIS_SENTINELS: 'sentinel-1:26379, 10.0.0.2:26380,[::1]:26381',
      REDIS_SENTINEL_NAME: 'solar-master',
    });
    expect(s.REDIS_SENTINELS).toEqual([
      { host: 'sentinel-1', port: 26379 },
      { host: '10.0.0.2', port: 26380 },
      { host: '::1', port: 26381 },
    ]);
    expect(parseSettings(withChecks, { REDIS_CLUSTER_NODES: 'a:7000,b:7001' }).REDIS_CLUSTER_NODES).toEqual([
      { host: 'a', port: 7000 },
      { host: 'b', port: 7001 },
    ]);
  });

  it('names the variable of a malformed endpoint', () => {
    expect(problems({ REDIS_CLUSTER_NODES: 'a:7000,b' })).toContain(
      'REDIS_CLUSTER_NODES: "b" is not host:port',
    );
    expect(problems({ REDIS_SENTINELS: 'a:99999', REDIS_SENTINEL_NAME: 'm' })).toContain(
      'REDIS_SENTINELS: "a:99999" is not host:port',
    );
  });

  it('rejects settings that contradict each other, naming each variable', () => {
    expect(problems({ REDIS_SENTINELS: 'a:26379' })).toContain(
      'REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS',
    );
    expect(
      problems({ REDIS_SENTINELS: 'a:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'b:7000' }),
    ).toContain('REDIS_CLUSTER_NODES: set either REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both');
    expect(problems({ REDIS_SENTINEL_NAME: 'm' })).toContain(
      'REDIS_SENTINEL_NAME: is only used with REDIS_SENTINELS',
    );
    expect(problems({ REDIS_CLUSTER_NODES: 'b:7000', REDIS_URL: 'redis://other:6379' })).toContain(
      'REDIS_URL: is for a single server',
    );
    expect(problems({ REDIS_CLUSTER_NODES: 'b:7000', REDIS_WAIT_REPLICAS: '1' })).toContain(
      'REDIS_WAIT_REPLICAS: is not supported with REDIS_CLUSTER_NODES',
    );
  });

  it('reads the TLS CA file at start and names it when it is missing or not PEM', () => {
    const dir = mkdtempSync(join(tmpdir(), 'settings-'));
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(parseSettings(withChecks, { REDIS_TLS_CA_FILE: ca }).REDIS_TLS_CA_FILE?.pem).toContain('BEGIN');
    expect(problems({ REDIS_TLS_CA_FILE: join(dir, 'missing.pem') })).toContain(
      `REDIS_TLS_CA_FILE: cannot read ${join(dir, 'missing.pem')}`,
    );
    writeFileSync(join(dir, 'x.txt'), 'hello');
    expect(problems({ REDIS_TLS_CA_FILE: join(dir, 'x.txt') })).toContain('is not a PEM file');
    rmSync(dir, { recursive: true });
  });
});
