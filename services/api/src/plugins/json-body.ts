import { TaskApiError } from '@solar-tasks/contract';
import secureJson from 'secure-json-parse';
import type { App } from '../app.js';

/** Options of {@link registerJsonBodyParser}. */
export interface JsonBodyOptions {
  /** Deepest nesting of arrays and objects accepted. @defaultValue 32 */
  maxDepth?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Replaces Fastify's JSON parser with a stricter one, so hostile bodies get a
 * clear 400 instead of a crash or a silent mangle:
 * - bytes that are not UTF-8 are refused (Fastify would decode them to U+FFFD);
 * - nesting deeper than `maxDepth` is refused before parsing (V8's JSON.parse
 *   recurses, and a 256 KiB body of `[[[[…` overflows the stack);
 * - `__proto__` and `constructor.prototype` keys are refused (secure-json-parse).
 */
export function registerJsonBodyParser(app: App, options: JsonBodyOptions = {}): void {
  const maxDepth = options.maxDepth ?? 32;
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, maxDepth));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** Parses a request body (see {@link registerJsonBodyParser}); throws `TaskApiError('INVALID_JSON')`. */
export function parseJsonBody(body: Buffer, maxDepth: number): unknown {
  if (body.length === 0) throw new TaskApiError('INVALID_JSON', 'the body is empty; send a JSON object');
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new TaskApiError('INVALID_JSON', 'the body is not valid UTF-8');
  }
  const depth = nestingDepth(text, maxDepth);
  if (depth > maxDepth)
    throw new TaskApiError('INVALID_JSON', `the body nests deeper than ${maxDepth} levels`);
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    const message = (err as Error).message;
    if (/prototype/i.test(message)) {
      throw new TaskApiError(
        'INVALID_JSON',
        'the body contains a forbidden key (__proto__ or constructor.prototype)',
      );
    }
    throw new TaskApiError('INVALID_JSON', 'the body is not valid JSON');
  }
}

/** Deepest bracket nesting in `text`, ignoring brackets inside strings; stops counting past `limit`. */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
