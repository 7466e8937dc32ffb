import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, testRedisUrl, uniquePrefix, waitFor } from '@solar-tasks/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execForm, last, readDockerfile, root } from './dockerfile.js';
import { pnpmCommand } from './pnpm.js';

// What the images do, without Docker: the same build (turbo), the same
// `pnpm deploy --prod` directories, and the very CMD and HEALTHCHECK argv of
// each Dockerfile target, run with node against a real Redis.
const dockerfile = readDockerfile();
const KEY = 'deploy-test-key-0123456789';

let dir: string;
const children: ChildProcess[] = [];

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'solar-deploy-'));
  const [pnpm, pre] = pnpmCommand();
  sh(pnpm, [
    ...pre,
    'exec',
    'turbo',
    'run',
    'build',
    '--filter=@solar-tasks/api',
    '--filter=@solar-tasks/worker',
  ]);
  for (const target of ['api', 'worker'])
    sh(pnpm, [
      ...pre,
      '--filter',
      `@solar-tasks/${target}`,
      'deploy',
      '--prod',
      '--prefer-offline',
      join(dir, target),
    ]);
}, 180_000);

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a target's argv (CMD or HEALTHCHECK) the way the image would: cwd /app, its ENV, our overrides. */
function imageEnv(target: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  for (const instruction of dockerfile.chain(target).filter((i) => i.getKeyword() === 'ENV')) {
    for (const property of (
      instruction as unknown as { getProperties(): { getName(): string; getValue(): string | null }[] }
    ).getProperties())
      env[property.getName()] = property.getValue() ?? '';
  }
  return { ...env, ...extra };
}

function argvOf(target: string, keyword: 'CMD' | 'HEALTHCHECK'): string[] {
  const argv = execForm(last(dockerfile.chain(target), keyword)!);
  // The image's `node` is the one on PATH; here it is this process's.
  return argv[0] === 'node' ? [process.execPath, ...argv.slice(1)] : argv;
}

function start(target: string, env: NodeJS.ProcessEnv): ChildProcess {
  const [cmd, ...args] = argvOf(target, 'CMD');
  const child = spawn(cmd!, args, { cwd: join(dir, target), env, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

function healthy(target: string, env: NodeJS.ProcessEnv, replace: [string, string] = ['', '']): boolean {
  const [cmd, ...args] = argvOf(target, 'HEALTHCHECK').map((a) =>
    replace[0] && a === replace[0] ? replace[1] : a,
  );
  return spawnSync(cmd!, args, { cwd: join(dir, target), env, stdio: 'ignore', timeout: 5000 }).status === 0;
}

describe('the pruned production build (what the images contain)', () => {
  it('holds dist and production dependencies only: no sources, tests or dev tools', () => {
    for (const target of ['api', 'worker']) {
      const app = join(dir, target);
      expect(readdirSync(app).sort()).toEqual([
        'dist',
        'node_modules',
        'package.json',
        'pnpm-lock.yaml',
        'pnpm-workspace.yaml',
      ]);
      expect(existsSync(join(app, 'dist/main.js'))).toBe(true);
      for (const devOnly of ['vitest', 'typescript', 'tsx', '@solar-tasks/testing', '@biomejs/biome'])
        expect(existsSync(join(app, 'node_modules', devOnly)), `${target} ships ${devOnly}`).toBe(false);
      // A workspace package ships its build, and links to its own dependencies
      // (node_modules) when the service does not depend on them directly; never its sources.
      expect(
        readdirSync(join(app, 'node_modules/@solar-tasks/queue'))
          .filter((name) => name !== 'node_modules')
          .sort(),
      ).toEqual(['dist', 'package.json']);
    }
  });

  it('runs the `tasks` CLI from the pruned worker build (dist/cli.js, no tsx)', () => {
    const env = imageEnv('worker', {
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: uniquePrefix('deploy-cli'),
      DATA_DIR: join(dir, 'cli-data'),
      LOG_LEVEL: 'warn',
    });
    const cli = (...args: string[]) =>
      spawnSync('node', ['--enable-source-maps', 'dist/cli.js', ...args], {
        cwd: join(dir, 'worker'),
        env,
        encoding: 'utf8',
        timeout: 30_000,
      });
    const help = cli('--help');
    expect(help.status).toBe(0);
    for (const command of [
      'process',
      'cleanup',
      'enqueue',
      'status',
      'stats',
      'retry',
      'cancel',
      'schedules',
    ])
      expect(help.stdout).toContain(command);
    const stats = cli('stats', '--json');
    expect(stats.stderr).toBe('');
    expect(stats.status).toBe(0);
    expect(Object.keys(JSON.parse(stats.stdout).queues)).toContain('email');
  });

  it('starts the API and a worker with their image commands; health checks pass; a task runs; SIGTERM exits 0', async () => {
    const prefix = uniquePrefix('deploy');
    const port = await freePort();
    const data = join(dir, 'data');
    const heartbeat = join(dir, 'worker.heartbeat');
    const common = { REDIS_URL: testRedisUrl(), REDIS_PREFIX: prefix, DATA_DIR: data, LOG_LEVEL: 'warn' };
    // The images default to NODE_ENV=production; the API then needs every credential.
    const apiEnv = imageEnv('api', {
      ...common,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_KEYS: `deploy:${KEY}`,
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: 'deploy-test-admin-password',
      EMAILJS_WEBHOOK_SECRET: 'deploy-test-webhook-secret',
    });
    const workerEnv = imageEnv('worker', { ...common, WORKER_HEARTBEAT_FILE: heartbeat });
    expect(apiEnv.NODE_ENV).toBe('production');

    const apiProcess = start('api', apiEnv);
    await waitFor('the API image health check passes', () => healthy('api', apiEnv), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const workerProcess = start('worker', workerEnv);
    await waitFor(
      'the worker image health check passes',
      () => healthy('worker', workerEnv, ['/tmp/solar-worker.heartbeat', heartbeat]),
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    const res = await fetch(`http://127.0.0.1:${port}/api/tasks/enqueue/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ task_name: 'send_email', args: ['ann@example.com', 'Deployed', 'It runs.'] }),
    });
    expect(res.status).toBe(201);
    const { task_id } = (await res.json()) as { task_id: string };
    await waitFor(
      'the pruned worker completes the task',
      async () => {
        const r = await fetch(`http://127.0.0.1:${port}/api/tasks/status/${task_id}/`, {
          headers: { authorization: `Bearer ${KEY}` },
        });
        return ((await r.json()) as { status: string }).status === 'completed';
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(readdirSync(join(data, 'outbox'))).toContain(`${task_id}.eml`);

    workerProcess.kill('SIGTERM');
    apiProcess.kill('SIGTERM');
    const [[workerCode], [apiCode]] = await Promise.all([
      once(workerProcess, 'exit'),
      once(apiProcess, 'exit'),
    ]);
    expect(workerCode).toBe(0);
    expect(apiCode).toBe(0);
    // A stopped worker reads as unhealthy: its heartbeat file is gone.
    expect(healthy('worker', workerEnv, ['/tmp/solar-worker.heartbeat', heartbeat])).toBe(false);
  });
});
