import { describe, expect, it } from 'vitest';
import { nestingDepth, parseJsonBody } from './json-body.js';

const parse = (body: string | Buffer) =>
  parseJsonBody(typeof body === 'string' ? Buffer.from(body) : body, 32);

describe('parseJsonBody', () => {
  it('parses ordinary JSON', () => {
    expect(parse('{"a":[1,{"b":"[{"}]}')).toEqual({ a: [1, { b: '[{' }] });
  });

  it('refuses deep nesting before JSON.parse can overflow the stack', () => {
    expect(() => parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)).toThrow(/deeper than 32/);
    expect(parse(`${'['.repeat(32)}${']'.repeat(32)}`)).toBeInstanceOf(Array);
  });

  it('refuses bytes that are not UTF-8 rather than mangling them', () => {
    expect(() => parse(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toThrow(/UTF-8/);
  });

  it('refuses __proto__ and constructor.prototype keys', () => {
    expect(() => parse('{"__proto__":{"polluted":1}}')).toThrow(/forbidden key/);
    expect(() => parse('{"a":{"constructor":{"prototype":{"x":1}}}}')).toThrow(/forbidden key/);
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  it('says the body is empty or not JSON', () => {
    expect(() => parse('')).toThrow(/empty/);
    expect(() => parse('{"a":')).toThrow(/not valid JSON/);
  });

  it('ignores brackets inside strings, including escaped quotes', () => {
    expect(nestingDepth('{"a":"\\"[[[[[["}', 3)).toBe(1);
  });
});
