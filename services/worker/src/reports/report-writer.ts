import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { ensureDir } from '../handlers/data-files.js';

/** A report column: its key in a row and how a CSV cell shows its value. */
export interface ReportColumn<Row> {
  key: keyof Row & string;
  /** Flattens a structured value (a list, a map) for CSV; JSON keeps the structure. */
  csv?: (value: Row[keyof Row]) => string | number;
}

/** What heads a JSON report. */
export interface ReportMeta {
  kind: string;
  from: string;
  to: string;
  generated_at: string;
}

/**
 * Writes rows to `file` as they come (CSV with a header line, or one JSON
 * document whose `rows` array is written row by row), into a partial file
 * renamed into place at the end: a reader sees the old report or the whole
 * new one, never half. Returns the number of rows.
 */
export async function writeReport<Row extends object>(
  file: string,
  format: 'csv' | 'json',
  columns: readonly ReportColumn<Row>[],
  rows: AsyncIterable<Row>,
  meta: ReportMeta,
  signal: AbortSignal,
): Promise<number> {
  await ensureDir(dirname(file));
  const partial = `${file}.${process.pid}.${Date.now()}.partial`;
  let count = 0;
  try {
    const out = createWriteStream(partial);
    if (format === 'csv') {
      const csv = stringify({
        header: true,
        columns: columns.map((c) => c.key),
        // A cell starting with = + - @ is a formula to a spreadsheet; lead data is customer input.
        escape_formulas: true,
      });
      await pipeline(
        (async function* () {
          for await (const row of rows) {
            count++;
            yield Object.fromEntries(
              columns.map((c) => {
                const value = row[c.key];
                return [c.key, c.csv ? c.csv(value) : value];
              }),
            );
          }
        })(),
        csv,
        out,
        { signal },
      );
    } else {
      await pipeline(
        (async function* () {
          yield `{"kind":${JSON.stringify(meta.kind)},"from":"${meta.from}","to":"${meta.to}","generated_at":"${meta.generated_at}","rows":[`;
          for await (const row of rows) {
            yield `${count++ === 0 ? '\n' : ',\n'}${JSON.stringify(pick(row, columns))}`;
          }
          yield `${count > 0 ? '\n' : ''}]}\n`;
        })(),
        out as Writable,
        { signal },
      );
    }
    await rename(partial, file);
    return count;
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
}

function pick<Row extends object>(row: Row, columns: readonly ReportColumn<Row>[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((c) => [c.key, row[c.key]]));
}
