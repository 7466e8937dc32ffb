import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogger, isoTime } from './logger.js';

const fixture = fileURLToPath(new URL('./test-fixtures/log-lines.ts', import.meta.url));

function run(file: string, lines: number, ending: 'exit' | 'natural' | 'idle') {
  // Node itself (not the tsx launcher, which would leave its node child behind a SIGKILL).
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@solar-tasks/source', fixture, file, String(lines), ending],
    { stdio: 'inherit' },
  );
  return { child, exited: new Promise<number | null>((r) => child.once('exit', (code) => r(code))) };
}

function linesOf(file: string): { i: number; time: string; level: string }[] {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('createLogger (buffered destination)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'solar-logger-'));

  it.each(['exit', 'natural'] as const)(
    'writes every line, in order, when the process ends (%s)',
    async (ending) => {
      const file = join(dir, `${ending}.log`);
      const { exited } = run(file, 5000, ending);
      expect(await exited).toBe(0);
      const lines = linesOf(file);
      expect(lines).toHaveLength(5000);
      expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      expect(lines[0]!.level).toBe('info');
    },
  );

  it('writes a quiet process’s last lines within the flush interval', async () => {
    const file = join(dir, 'idle.log');
    const { child, exited } = run(file, 3, 'idle');
    try {
      const t0 = Date.now();
      while (linesOf(file).length < 3 && Date.now() - t0 < 15_000)
        await new Promise((r) => setTimeout(r, 50));
      expect(linesOf(file).map((l) => l.i)).toEqual([0, 1, 2]);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });
});

describe('createLogger (many in one process)', () => {
  it('shares one exit hook among its loggers, however many a process makes (tests, the bench)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'solar-logger-many-'));
    createLogger({ name: 'first', level: 'info', dest: join(dir, 'first.log') });
    const exit = process.listenerCount('exit');
    const beforeExit = process.listenerCount('beforeExit');
    for (let i = 0; i < 20; i++) createLogger({ name: `l${i}`, level: 'info', dest: join(dir, `${i}.log`) });
    // pino adds its own exit hook once per process (on-exit-leak-free); ours is added once too.
    expect(process.listenerCount('exit')).toBe(exit);
    expect(process.listenerCount('beforeExit')).toBe(beforeExit);
  });
});

describe('isoTime', () => {
  it('is pino’s ISO time field, for the current millisecond', () => {
    const before = Date.now();
    const field = isoTime();
    const after = Date.now();
    const parsed = JSON.parse(`{${field.slice(1)}}`) as { time: string };
    expect(parsed.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const ms = Date.parse(parsed.time);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });
});
