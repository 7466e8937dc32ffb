import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MEMORY_PROBE_MARK, type MemoryProbe } from '@solar-tasks/testing/memory-probe';
import { inheritedEnv } from '../env.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const here = fileURLToPath(new URL('../../', import.meta.url));

/** The fixtures: the real `runWorkerMain` / `runApiMain` with the test tasks. */
export const FIXTURES = {
  worker: `${repo}services/worker/src/test-fixtures/worker-process.ts`,
  api: `${repo}services/api/src/test-fixtures/api-process.ts`,
} as const;

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A worker or API process started by a test. */
export interface ServiceProcess {
  readonly kind: keyof typeof FIXTURES;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** True until it exits. */
  alive(): boolean;
  /** Its last output lines (stdout and stderr), for diagnostics and log assertions. */
  output(): string[];
  /** Resident set size now, in bytes (Linux `/proc`), or undefined once it is gone. */
  rssBytes(): number | undefined;
  /** Sends a signal (SIGKILL, as a crash or the OOM killer would). */
  kill(signal?: NodeJS.Signals): void;
  /** Asks the process for its memory right after a full GC (see `installMemoryProbe`). */
  probeMemory(timeoutMs?: number): Promise<MemoryProbe>;
}

/**
 * Starts a fixture as one plain `node` process with tsx's loader and the
 * workspace's source condition. One process, not the `tsx` CLI (which runs the
 * script in a child of its own): a SIGKILL must hit the process that holds
 * the locks, and `/proc/<pid>` must be the process whose memory we measure.
 * Running the TypeScript sources keeps the suite free of a build step, like
 * every other test here.
 */
export function spawnService(
  kind: keyof typeof FIXTURES,
  env: Record<string, string>,
  keepLines = 400,
): ServiceProcess {
  const child = spawn(
    process.execPath,
    // --expose-gc: the memory probe collects garbage before it measures.
    ['--expose-gc', '--import', 'tsx', '--conditions=@solar-tasks/source', FIXTURES[kind]],
    {
      cwd: here, // resolves `--import tsx` from this package's dependencies
      env: { ...inheritedEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.pid === undefined) throw new Error(`could not start the ${kind} fixture`);
  const lines: string[] = [];
  let probeWaiter: ((probe: MemoryProbe) => void) | undefined;
  const partial = { stdout: '', stderr: '' };
  const collect = (stream: keyof typeof partial) => (chunk: Buffer) => {
    const text = partial[stream] + chunk.toString();
    const complete = text.split('\n');
    partial[stream] = complete.pop() ?? '';
    for (const line of complete) {
      if (!line) continue;
      if (line.includes(MEMORY_PROBE_MARK) && probeWaiter) {
        probeWaiter((JSON.parse(line) as Record<string, MemoryProbe>)[MEMORY_PROBE_MARK]!);
        continue;
      }
      lines.push(line);
      if (lines.length > keepLines) lines.shift();
    }
  };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const pid = child.pid;
  return {
    kind,
    pid,
    child,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => [...lines],
    rssBytes: () => {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
        return kb ? Number(kb) * 1024 : undefined;
      } catch {
        return undefined;
      }
    },
    kill: (signal = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    probeMemory: (timeoutMs = 10_000) =>
      new Promise<MemoryProbe>((resolve, reject) => {
        const timer = setTimeout(() => {
          probeWaiter = undefined;
          reject(new Error(`${kind} ${pid} did not answer the memory probe within ${timeoutMs} ms`));
        }, timeoutMs);
        probeWaiter = (probe) => {
          clearTimeout(timer);
          probeWaiter = undefined;
          resolve(probe);
        };
        child.kill('SIGUSR2');
      }),
  };
}
