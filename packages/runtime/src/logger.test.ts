import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, isoTime, lazyChild, lineWriter, quoteJson } from './logger.js';
import { noteOf } from './test-fixtures/log-notes.js';

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

function linesOf(file: string): { i: number; time: string; level: string; note?: string }[] {
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
      // Multi-byte text arrives whole, and lines longer than the buffer keep their place.
      expect(lines.map((l) => l.note)).toEqual(lines.map((l) => noteOf(l.i)));
      expect(lines[1007]!.note).toHaveLength(120_000);
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

describe('lineWriter', () => {
  /** A logger as createLogger makes it, writing into an array. */
  function capture(level = 'info') {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ name: 'worker', level, destination });
    return { logger, lines };
  }

  it('writes the line pino writes for the same fields, in the same shape', () => {
    const { logger, lines } = capture();
    const write = lineWriter(logger, 'info', 'task completed', [
      'task_id',
      'task',
      'attempt',
      'note',
      'gone',
    ]);
    const fields = { task_id: 'a1b2', task: 'say "hi"\n\u0001', attempt: 2, note: true, gone: undefined };
    write(fields);
    // pino's own line for the same fields, without redaction (a lineWriter's fields are our own).
    logger.child({}, { redact: [] }).info(fields, 'task completed');
    expect(lines).toHaveLength(2);
    const [ours, theirs] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // The same keys in the same order, the same values; only the clock may have moved on.
    expect(Object.keys(ours!)).toEqual(Object.keys(theirs!));
    expect({ ...ours, time: 0 }).toEqual({ ...theirs, time: 0 });
    expect(ours!.level).toBe('info');
    expect(ours!.msg).toBe('task completed');
    expect(ours).not.toHaveProperty('gone');
    expect(lines[0]!.endsWith('}\n')).toBe(true);
  });

  it('honours the level, a child’s bindings, and numbers JSON cannot hold', () => {
    const quiet = capture('warn');
    lineWriter(quiet.logger, 'info', 'x', ['n'])({ n: 1 });
    expect(quiet.lines).toEqual([]);
    const { logger, lines } = capture();
    lineWriter(logger.child({ worker_id: 'w-1' }), 'info', 'x', ['n', 'm'])({ n: Number.NaN, m: 3 });
    expect(JSON.parse(lines[0]!)).toMatchObject({ worker_id: 'w-1', n: null, m: 3, msg: 'x' });
  });

  it('takes another message per line, and quotes it as pino does', () => {
    const { logger, lines } = capture();
    const write = lineWriter(logger, 'info', 'request', ['n']);
    write({ n: 1 });
    write({ n: 2 }, 'task "enqueued"');
    write({ n: 3 }, 'task "enqueued"');
    write({ n: 4 }, undefined);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual([
      'request',
      'task "enqueued"',
      'task "enqueued"',
      'request',
    ]);
  });

  it('lets pino write to a multistream, which routes by the metadata pino sets', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ name: 'api', level: 'info', destination: pino.multistream([{ stream }]) });
    lineWriter(logger, 'info', 'routed', ['k'])({ k: 'v' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ k: 'v', msg: 'routed' });
  });
});

describe('quoteJson', () => {
  it('is JSON.stringify for any string: plain, escaped, non-ASCII, lone surrogates, long', () => {
    const samples = [
      '',
      'bench_noop',
      '207f0084-be0a-4f5d-bd36-9efaa5c23511',
      '/api/tasks/status/:task_id/',
      " ~!#$%&'()*+,-./:;<=>?@[]^_`{|}",
      'say "hi"',
      'back\\slash',
      'line\nbreak',
      'tab\there',
      '\u0000\u001f\u007f',
      'café',
      'Zoë 🙂',
      '\ud800 lone',
      'x'.repeat(100),
      `${'y'.repeat(100)}"`,
      'z'.repeat(5000),
    ];
    for (const s of samples) expect(quoteJson(s)).toBe(JSON.stringify(s));
    // Every single character of the Basic Multilingual Plane, alone and inside a plain string.
    const differ: number[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      if (quoteJson(ch) !== JSON.stringify(ch) || quoteJson(`ab${ch}cd`) !== JSON.stringify(`ab${ch}cd`))
        differ.push(c);
    }
    expect(differ).toEqual([]);
  });
});

describe('lazyChild', () => {
  function capture() {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    return { logger: createLogger({ name: 'api', level: 'info', destination }), lines };
  }

  it('makes the child only when a line is written through it', () => {
    const { logger } = capture();
    let made = 0;
    const child = logger.child.bind(logger);
    logger.child = ((...args: Parameters<typeof child>) => {
      made++;
      return child(...args);
    }) as typeof logger.child;
    const lazy = lazyChild(logger, { reqId: 'r-1' });
    expect(lazy.level).toBe('info');
    expect(lazy.isLevelEnabled('debug')).toBe(false);
    lazy.debug('below the level');
    expect(made).toBe(1);
    const unused = lazyChild(logger, { reqId: 'r-2' });
    expect(unused.isLevelEnabled('info')).toBe(true);
    expect(made).toBe(1);
  });

  it('writes the lines the child would write, bindings and redaction included', () => {
    const { logger, lines } = capture();
    lazyChild(logger, { reqId: 'r-1' }).warn({ password: 'hunter2', task: 't' }, 'careful');
    logger.child({ reqId: 'r-1' }).warn({ password: 'hunter2', task: 't' }, 'careful');
    const [lazy, eager] = lines.map((l) => ({ ...JSON.parse(l), time: 0 }));
    expect(lazy).toEqual(eager);
    expect(lazy).toMatchObject({ reqId: 'r-1', password: '[redacted]', msg: 'careful' });
    expect(lines.join('')).not.toContain('hunter2');
  });

  it('keeps a level of its own, and its children carry its bindings', () => {
    const { logger, lines } = capture();
    const lazy = lazyChild(logger, { reqId: 'r-3' }, { level: 'debug' });
    expect(lazy.isLevelEnabled('debug')).toBe(true);
    lazy.child({ admin: 'ann' }).debug('seen');
    expect(JSON.parse(lines[0]!)).toMatchObject({ reqId: 'r-3', admin: 'ann', msg: 'seen' });
    expect(lazy.bindings()).toMatchObject({ reqId: 'r-3' });
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
