#!/usr/bin/env node
// The one entry point behind the root scripts (`pnpm start`, `pnpm test`, …).
// Plain Node.js with no dependencies, so it also works on a fresh clone with
// only Node.js: it brings pnpm (pinned) and the dependencies in first.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split(
  '@',
)[1];
const bin = (name) => join(root, 'node_modules', '.bin', name);
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  ...(process.env.CI ? { NO_COLOR: '1', FORCE_COLOR: '0' } : {}),
};

function log(message) {
  process.stderr.write(`[solar-tasks] ${message}\n`);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(cmd, args, opts) {
  const code = run(cmd, args, opts);
  if (code !== 0) process.exit(code);
}

/**
 * pnpm at the pinned version: the one on PATH if it matches; else one installed
 * with npm into `.tools/` (gitignored) and put on PATH for everything we run,
 * since turbo also looks for the package manager's binary there.
 */
function pnpm() {
  const r = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env });
  if (r.status === 0 && r.stdout.trim() === PNPM_VERSION) return 'pnpm';
  const tools = join(root, '.tools');
  const local = join(tools, 'node_modules', '.bin', 'pnpm');
  const version = spawnSync(local, ['--version'], { encoding: 'utf8', env });
  if (version.status !== 0 || version.stdout.trim() !== PNPM_VERSION) {
    log(`pnpm ${PNPM_VERSION} is not on PATH: installing it into .tools/ with npm…`);
    must('npm', [
      'install',
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--prefix',
      tools,
      `pnpm@${PNPM_VERSION}`,
    ]);
  }
  env.PATH = `${join(tools, 'node_modules', '.bin')}${delimiter}${env.PATH ?? ''}`;
  return local;
}

/** Installs dependencies when node_modules is missing or older than the lockfile. */
function ensureInstalled() {
  // Always resolved: turbo needs the package manager's binary on PATH even when nothing is installed.
  const pnpmBin = pnpm();
  const marker = join(root, 'node_modules', '.modules.yaml');
  const lock = join(root, 'pnpm-lock.yaml');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log(`installing dependencies with pnpm ${PNPM_VERSION}…`);
  must(pnpmBin, ['install', '--frozen-lockfile']);
}

function turbo(...tasks) {
  must(bin('turbo'), ['run', ...tasks, '--output-logs=errors-only']);
}

function redisAnswers(host, port, timeoutMs = 500) {
  return new Promise((resolveP) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolveP(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

/**
 * With no REDIS_URL and nothing answering on 127.0.0.1:6379, starts a local
 * redis-server (AOF on, data under DATA_DIR/redis) for the life of this command.
 */
async function ensureRedis() {
  if (env.REDIS_URL) return undefined;
  if (await redisAnswers('127.0.0.1', 6379)) {
    log('using the Redis answering on 127.0.0.1:6379');
    return undefined;
  }
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (which.status !== 0) {
    log('no REDIS_URL is set, nothing answers on 127.0.0.1:6379, and redis-server is not installed.');
    log('Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis),');
    log('or point REDIS_URL at a Redis 7 server, e.g. REDIS_URL=redis://127.0.0.1:6379 pnpm start');
    process.exit(1);
  }
  const dir = resolve(root, env.DATA_DIR ?? '.data', 'redis');
  mkdirSync(dir, { recursive: true });
  log(`starting a local redis-server on 127.0.0.1:6379 (AOF on, data in ${dir})`);
  const redis = spawn(
    which.stdout.trim(),
    [
      '--port',
      '6379',
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
      '--maxmemory-policy',
      'noeviction',
      '--hz',
      '100',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (let i = 0; i < 100 && !(await redisAnswers('127.0.0.1', 6379)); i++)
    await new Promise((r) => setTimeout(r, 100));
  return redis;
}

/**
 * Runs services (`[name, script, node options]`) side by side until a signal
 * or until one exits; then stops the services (SIGTERM, so workers finish or
 * hand back their tasks) and only after they are gone the local Redis, if we
 * started one.
 */
function supervise(redis, services) {
  const children = [];
  let stopping = false;
  const stopAll = () => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  const exited = services.map(([name, script, nodeOptions]) => {
    const child = spawn(process.execPath, ['--enable-source-maps', ...nodeOptions, join(root, script)], {
      cwd: root,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    children.push(child);
    return new Promise((resolveP) =>
      child.on('exit', (code) => {
        if (!stopping) {
          log(`${name} exited with ${code}; stopping the rest`);
          process.exitCode = code || 1;
          stopAll();
        }
        resolveP();
      }),
    );
  });
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);
  Promise.all(exited).then(() => {
    if (redis && redis.exitCode === null) redis.kill('SIGTERM');
  });
}

/** Prints the plain closing line CI reads: "tests: N passed, N failed, N skipped". */
function summarize(reportFile) {
  try {
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    return { passed: report.numPassedTests ?? 0, failed: report.numFailedTests ?? 0, skipped };
  } catch {
    return { passed: 0, failed: 1, skipped: 0 };
  }
}

const command = process.argv[2];
ensureInstalled();
switch (command) {
  case 'build':
  case 'typecheck':
  case 'lint':
    turbo(command);
    break;
  case 'test': {
    turbo('build', 'typecheck', 'lint');
    const report = join(root, 'node_modules', '.cache', 'vitest-report.json');
    mkdirSync(dirname(report), { recursive: true });
    const code = run(bin('vitest'), [
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...process.argv.slice(3),
    ]);
    const s = summarize(report);
    if (code !== 0 && s.failed === 0) s.failed = 1;
    process.stdout.write(`\ntests: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped\n`);
    process.exit(code);
    break;
  }
  case 'soak': {
    // The bounded-memory fault test at full size (pnpm test runs it with 20,000 tasks).
    env.FAULT_MEMORY_TASKS ??= '100000';
    log(`soak: ${env.FAULT_MEMORY_TASKS} tasks through API and workers (FAULT_MEMORY_TASKS)`);
    process.exit(
      run(bin('vitest'), [
        'run',
        '--project',
        'fault',
        'src/bounded-memory.test.ts',
        ...process.argv.slice(3),
      ]),
    );
    break;
  }
  case 'bench': {
    // Its own redis-server on a free port; BENCH_QUICK=1 for a short smoke run.
    log(
      `bench: ours beside raw BullMQ${env.BENCH_QUICK === '1' ? ' (quick smoke run)' : ''}; writes bench/results/`,
    );
    process.exit(
      run(bin('tsx'), ['--conditions=@solar-tasks/source', 'src/main.ts', ...process.argv.slice(3)], {
        cwd: join(root, 'bench'),
      }),
    );
    break;
  }
  case 'start':
  case 'start:api':
  case 'start:worker': {
    turbo('build');
    const redis = await ensureRedis();
    const services = [];
    // The API's V8 options: API_NODE_OPTIONS in services/api/src/node-options.ts (a test keeps them equal).
    if (command !== 'start:worker')
      services.push(['api', 'services/api/dist/main.js', ['--max-semi-space-size=64']]);
    if (command !== 'start:api') services.push(['worker', 'services/worker/dist/main.js', []]);
    supervise(redis, services);
    break;
  }
  case 'tasks': {
    // The operator CLI from source (tsx), so it never runs a stale build: `pnpm tasks stats`.
    // Signals are passed on, so `pnpm tasks process --daemon` stops gracefully too.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@solar-tasks/source',
        join(root, 'services/worker/src/cli.ts'),
        ...process.argv.slice(3),
      ],
      { cwd: root, env, stdio: 'inherit' },
    );
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
    break;
  }
  default:
    log(
      `unknown command "${command}"; use start, start:api, start:worker, test, soak, tasks, bench, build, typecheck or lint`,
    );
    process.exit(2);
}
