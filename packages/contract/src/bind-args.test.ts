import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bindArguments } from './bind-args.js';
import { sendEmail } from './tasks/send-email.js';

const schema = z.strictObject({ a: z.string(), b: z.number().optional(), c: z.boolean().default(false) });

describe('bindArguments', () => {
  it('binds positional args to parameters in declaration order', () => {
    expect(bindArguments(schema, ['x', 2, true])).toEqual({ ok: true, value: { a: 'x', b: 2, c: true } });
  });

  it('binds kwargs by name and mixes with positional args like a Python call', () => {
    expect(bindArguments(schema, ['x'], { c: true })).toEqual({ ok: true, value: { a: 'x', c: true } });
  });

  it('applies schema defaults to parameters nobody bound', () => {
    expect(bindArguments(schema, [], { a: 'x' })).toEqual({ ok: true, value: { a: 'x', c: false } });
  });

  it('rejects a name bound twice, naming the keyword', () => {
    const r = bindArguments(schema, ['x'], { a: 'y' });
    expect(r).toMatchObject({ ok: false, issues: [{ field: 'kwargs.a', code: 'multiple_values' }] });
  });

  it('rejects too many positional args, naming the first extra one', () => {
    const r = bindArguments(schema, ['x', 1, true, 'extra']);
    expect(r).toMatchObject({ ok: false, issues: [{ field: 'args[3]', code: 'too_many_positional' }] });
  });

  it('rejects an unknown kwarg, naming it', () => {
    const r = bindArguments(schema, [], { a: 'x', nope: 1 });
    expect(r).toMatchObject({ ok: false, issues: [{ field: 'kwargs.nope', code: 'unexpected_keyword' }] });
  });

  it('names a positional field by index and says which parameter it is', () => {
    const r = bindArguments(schema, [42]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues[0]).toMatchObject({ field: 'args[0]', code: 'invalid_type' });
    expect(r.issues[0]!.message).toMatch(/^a: /);
  });

  it('names a missing required parameter by its name', () => {
    const r = bindArguments(schema, [], { b: 1 });
    expect(r).toMatchObject({ ok: false, issues: [{ field: 'a' }] });
  });

  it('names nested fields with their path', () => {
    const r = bindArguments(sendEmail.args, ['a@example.com', 'Hi', 'body'], {
      attachments: [{ path: '../etc/passwd' }],
    });
    expect(r).toMatchObject({ ok: false, issues: [{ field: 'kwargs.attachments[0].path' }] });
  });

  it('treats __proto__ and constructor as unknown keywords, never as prototype keys', () => {
    const kwargs = JSON.parse('{"a":"x","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const r = bindArguments(schema, [], kwargs);
    expect(r).toMatchObject({ ok: false, issues: [{ field: 'kwargs.__proto__' }] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(bindArguments(schema, [], { a: 'x', constructor: 1 }).ok).toBe(false);
  });

  it('normalises e-mail addresses on the way in', () => {
    const r = bindArguments(sendEmail.args, [' Ann@Example.COM ', 'Hi', 'body']);
    expect(r).toMatchObject({ ok: true, value: { to: 'ann@example.com' } });
  });
});
