import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const workerDir = resolve(here, '../..');
const cliEntry = resolve(here, '../cli.ts');

/** The outcome of one CLI run. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set of the CLI process (VmHWM), in bytes. */
  peakRss: number;
}

/**
 * Runs the real CLI from source in one Node process (`node --import tsx`,
 * so the pid measured is the CLI's own) and samples its peak RSS.
 */
export function runCliProcess(
  args: string[],
  env: Record<string, string>,
  onStart?: (child: ChildProcessWithoutNullStreams) => void,
): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@solar-tasks/source', cliEntry, ...args],
      { cwd: workerDir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env } },
    );
    let stdout = '';
    let stderr = '';
    let peakRss = 0;
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const sample = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakRss = Math.max(peakRss, Number(m[1]) * 1024);
      } catch {
        // exited between samples
      }
    }, 25);
    onStart?.(child);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      resolveRun({ code, stdout, stderr, peakRss });
    });
  });
}
