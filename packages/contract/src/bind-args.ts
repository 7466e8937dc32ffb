import type { z } from 'zod';
import type { TaskArgsSchema } from './define-task.js';

/** One problem with one field, as the REST API reports it. */
export interface FieldIssue {
  /** Dotted path of the field, e.g. `kwargs.to`, `args[1]`, `attachments[0].path`. */
  field: string;
  /** What is wrong, in plain words. */
  message: string;
  /** Machine-readable kind: zod's issue code, or one of the binding codes below. */
  code: string;
}

/** The outcome of binding and validating a call's arguments. */
export type BindResult<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/**
 * Binds Python-style positional `args` and named `kwargs` onto a task's
 * argument schema, the way a Python call binds them: positional arguments fill
 * the schema's keys in declaration order, keyword arguments fill keys by name.
 * Too many positional arguments, a name bound twice or an unknown keyword is
 * an issue naming the field; then the bound object is validated by the schema.
 */
export function bindArguments<S extends TaskArgsSchema>(
  schema: S,
  args: readonly unknown[] = [],
  kwargs: Readonly<Record<string, unknown>> = {},
): BindResult<z.output<S>> {
  const parameters = parametersOf(schema);
  const issues: FieldIssue[] = [];
  // A plain object, not a null-prototype one (V8 keeps those as slow dictionaries, and this is on
  // every enqueue's path): only parameter names are ever set on it, through setArgument.
  const bound: Record<string, unknown> = {};
  const origin = new Map<string, string>();

  args.forEach((value, index) => {
    const name = parameters[index];
    if (name === undefined) {
      issues.push({
        field: `args[${index}]`,
        code: 'too_many_positional',
        message: `takes at most ${parameters.length} positional argument${parameters.length === 1 ? '' : 's'} (${parameters.join(', ')}), got ${args.length}`,
      });
      return;
    }
    setArgument(bound, name, value);
    origin.set(name, `args[${index}]`);
  });

  for (const name of Object.keys(kwargs)) {
    const value = kwargs[name];
    if (!parameters.includes(name)) {
      issues.push({
        field: `kwargs.${name}`,
        code: 'unexpected_keyword',
        message: `unexpected keyword argument "${name}"; known: ${parameters.join(', ')}`,
      });
      continue;
    }
    if (origin.has(name)) {
      issues.push({
        field: `kwargs.${name}`,
        code: 'multiple_values',
        message: `got multiple values for argument "${name}" (also given as ${origin.get(name)})`,
      });
      continue;
    }
    setArgument(bound, name, value);
    origin.set(name, `kwargs.${name}`);
  }

  if (issues.length > 0) return { ok: false, issues };

  const parsed = schema.safeParse(bound);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => {
      const name = issue.path[0] === undefined ? undefined : String(issue.path[0]);
      const positional = name !== undefined && origin.get(name)?.startsWith('args[');
      return {
        field: fieldName(issue.path, origin),
        code: issue.code,
        // A positional field is named by index; say which parameter that is.
        message: positional ? `${name}: ${issue.message}` : issue.message,
      };
    }),
  };
}

/** Sets one argument; a parameter named `__proto__` (if a schema ever had one) stays plain data. */
function setArgument(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__')
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  else target[name] = value;
}

/** A schema's parameter names in declaration order, listed once per schema (this is on every enqueue's path). */
const parameterNames = new WeakMap<object, readonly string[]>();

function parametersOf(schema: TaskArgsSchema): readonly string[] {
  let names = parameterNames.get(schema);
  if (!names) {
    names = Object.freeze(Object.keys(schema.shape));
    parameterNames.set(schema, names);
  }
  return names;
}

/**
 * Names a field the way the caller sent it: `args[0]` for a positional
 * argument, `kwargs.to` for a keyword one, the bare parameter name for one
 * that is missing.
 */
function fieldName(path: readonly PropertyKey[], origin: ReadonlyMap<string, string>): string {
  const [head, ...rest] = path;
  if (head === undefined) return 'kwargs';
  const base = origin.get(String(head)) ?? String(head);
  return rest.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`),
    base,
  );
}

/** Formats a dotted field path from a zod issue path (for request-level validation). */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key, i) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return i === 0 ? String(key) : `${acc}.${String(key)}`;
  }, '');
}
