import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { READ_ONLY_KEY, type Stack, startStack } from '@solar-tasks/api/test-support';
import { testRedisUrl } from '@solar-tasks/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';

/**
 * The Python client's unittest suite against a real API and worker (the
 * worker's test tasks, its own key prefix, on a free port). The suite runs
 * once, in one python3 process; each Python test is then reported as one
 * vitest test, so `pnpm test`'s closing line counts them and a failing
 * Python test fails here with its traceback.
 */
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const runner = join(root, 'harness', 'unittest_json.py');
const PYTHON = 'python3';
const SUITE_TIMEOUT_MS = 120_000;

interface Outcome {
  id: string;
  outcome: 'passed' | 'failed' | 'skipped';
  message: string;
}

const pythonEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', NO_PROXY: '127.0.0.1,localhost' };

// Listed at collection time (no server needed: discovery only imports modules).
const listed = spawnSync(PYTHON, [runner, 'list'], { cwd: root, encoding: 'utf8', env: pythonEnv });
const listError =
  listed.error?.message ?? (listed.status === 0 ? undefined : `exit ${listed.status}: ${listed.stderr}`);
const ids: string[] = listError ? [] : (JSON.parse(listed.stdout) as string[]);

let stack: Stack | undefined;
const outcomes = new Map<string, Outcome>();
let runProblem = '';

beforeAll(async () => {
  if (listError) return;
  stack = await startStack(testRedisUrl());
  const results = join(tmpdir(), `solar-python-client-${randomUUID()}.jsonl`);
  // Asynchronous on purpose: the API answering the Python tests runs in this process.
  const child = spawn(PYTHON, [runner, 'run', results], {
    cwd: root,
    env: {
      ...pythonEnv,
      SOLAR_TASKS_URL: stack.baseUrl,
      SOLAR_TASKS_API_KEY: stack.key,
      SOLAR_TASKS_TEST_READ_ONLY_KEY: READ_ONLY_KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  try {
    for (const line of readFileSync(results, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const outcome = JSON.parse(line) as Outcome;
      outcomes.set(outcome.id, outcome);
    }
  } catch (err) {
    runProblem = `no results file (${(err as Error).message})`;
  } finally {
    rmSync(results, { force: true });
  }
  if (signal || (code !== 0 && code !== 1)) {
    runProblem = `python3 ended with ${signal ?? `exit ${code}`}${signal === 'SIGKILL' ? ` after ${SUITE_TIMEOUT_MS} ms` : ''}`;
  }
  if (runProblem) runProblem += `\n${output}`;
}, SUITE_TIMEOUT_MS + 30_000);

afterAll(async () => {
  await stack?.close();
});

describe('Python client (clients/python, unittest)', () => {
  if (listError) {
    it('lists the unittest suite with python3', () => {
      throw new Error(`could not list the Python tests with ${PYTHON}: ${listError}`);
    });
  }
  it('runs at least one Python test', ({ expect }) => {
    expect(ids.length).toBeGreaterThan(0);
  });
  for (const id of ids) {
    it(id, (ctx) => {
      const result = outcomes.get(id);
      if (!result)
        throw new Error(`the Python test did not report a result${runProblem ? `: ${runProblem}` : ''}`);
      if (result.outcome === 'skipped') ctx.skip(result.message);
      if (result.outcome === 'failed') throw new Error(result.message);
    });
  }
});
