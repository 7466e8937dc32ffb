import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Stack, startStack } from '@solar-tasks/api/test-support';
import { createRedisConnection, type RedisSettings, redisSettingsFrom } from '@solar-tasks/queue';
import { commonSettingsSchema, parseSettings } from '@solar-tasks/runtime';
import {
  cleanUp,
  freePort,
  nextEvent,
  type RedisServer,
  startRedisServer,
  waitFor,
} from '@solar-tasks/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PASSWORD = 'tls-test-password-0123';
let dir: string;
let server: RedisServer;
let tlsPort: number;
let caFile: string;
let stack: Stack | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'solar-tls-'));
  caFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  // A self-signed certificate for 127.0.0.1: trusted only by a client given it as CA.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      caFile,
      '-days',
      '1',
      '-subj',
      '/CN=solar-tasks-test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  tlsPort = await freePort();
  server = await startRedisServer({
    extraArgs: [
      ...['--tls-port', String(tlsPort), '--tls-cert-file', caFile, '--tls-key-file', keyFile],
      ...['--tls-ca-cert-file', caFile, '--tls-auth-clients', 'no'],
      // No anonymous access; one application user, allowed only the
      // deployment's keys and channels (the test prefixes all start e2e-).
      ...['--user', 'default', 'off'],
      ...['--user', 'solar', 'on', `>${PASSWORD}`, '~e2e-*', '&e2e-*', '+@all'],
    ],
  });
});

afterAll(() =>
  cleanUp([
    () => stack?.close(),
    () => server?.stop({ removeData: true }),
    async () => rmSync(dir, { recursive: true, force: true }),
  ]),
);

/** Connection settings exactly as a service would parse them from its environment. */
function settingsFrom(env: Record<string, string>): Omit<RedisSettings, 'prefix'> {
  return redisSettingsFrom(parseSettings(commonSettingsSchema, env));
}

/** The first error a connection with these settings reports. */
async function firstError(settings: Omit<RedisSettings, 'prefix'>): Promise<string> {
  const errors = new EventEmitter<{ error: [Error] }>();
  const client = createRedisConnection({ ...settings, prefix: 'e2e-x' }, 'api', (err) =>
    errors.emit('error', err),
  );
  try {
    const [err] = await nextEvent<[Error]>(errors, 'error');
    return err.message;
  } finally {
    client.disconnect();
  }
}

describe('over TLS with an ACL user', () => {
  it('runs tasks with REDIS_URL=rediss://…, REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS_CA_FILE, inside the user’s key and channel patterns', async () => {
    stack = await startStack(
      settingsFrom({
        REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
        REDIS_USERNAME: 'solar',
        REDIS_PASSWORD: PASSWORD,
        REDIS_TLS_CA_FILE: caFile,
      }),
    );
    const s = stack;
    const res = await s.call('POST', '/api/tasks/enqueue/', { task_name: 'add_numbers', args: [20, 22] });
    expect(res.status).toBe(201);
    const { task_id } = (await res.json()) as { task_id: string };
    await waitFor(
      'the task completes over TLS',
      async () => (await s.queue.getStatus(task_id))?.status === 'completed',
    );
    expect(await s.queue.getStatus(task_id)).toMatchObject({ result: { sum: 42 } });
    // Cancelling publishes on the deployment's channel, which the ACL allows.
    const running = await s.queue.enqueue({ task_name: 'sleep_ms', args: [30_000] });
    await waitFor(
      'the long task runs',
      async () => (await s.queue.getStatus(running.taskId))?.status === 'running',
    );
    await s.queue.cancel(running.taskId);
    await waitFor(
      'the running task is cancelled',
      async () => (await s.queue.getStatus(running.taskId))?.status === 'cancelled',
    );
  });

  it('refuses a server certificate it was not told to trust', async () => {
    const message = await firstError(
      settingsFrom({
        REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
        REDIS_USERNAME: 'solar',
        REDIS_PASSWORD: PASSWORD,
      }),
    );
    expect(message).toMatch(/self[- ]signed certificate/);
  });

  it('reports a wrong password instead of running unauthenticated', async () => {
    const message = await firstError(
      settingsFrom({
        REDIS_URL: `rediss://127.0.0.1:${tlsPort}`,
        REDIS_USERNAME: 'solar',
        REDIS_PASSWORD: 'wrong-password',
        REDIS_TLS_CA_FILE: caFile,
      }),
    );
    expect(message).toMatch(/WRONGPASS/);
  });
});
