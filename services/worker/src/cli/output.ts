import Table from 'cli-table3';

/** Where and how a command prints: a human table, or JSON for scripts (`--json`). */
export interface Output {
  json: boolean;
  /** Prints a result: `value` as JSON with `--json`, else `human()`'s text. */
  result(value: unknown, human: () => string): void;
  /** A line for people on stderr (progress, notes); silent with `--json`. */
  note(line: string): void;
}

export function createOutput(
  json: boolean,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Output {
  return {
    json,
    result(value, human) {
      out.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    note(line) {
      if (!json) err.write(`${line}\n`);
    },
  };
}

/** A table with a header row. */
export function table(head: string[], rows: (string | number | boolean | null | undefined)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) t.push(row.map((c) => (c === null || c === undefined ? '' : String(c))));
  return t.toString();
}

/** A two-column key/value table. */
export function details(entries: [string, unknown][]): string {
  const t = new Table({ style: { head: [], border: [] } });
  for (const [k, v] of entries) {
    const text = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
    t.push({ [k]: text });
  }
  return t.toString();
}
