import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ReportColumn } from './report-writer.js';

/** One row per day with leads: how many were created, merged, their mean score and sources. */
export interface LeadsRow {
  /** UTC day of submission, YYYY-MM-DD. */
  date: string;
  /** New leads that day. */
  leads: number;
  /** Submissions merged into an earlier lead that day. */
  merged: number;
  /** Mean score of the new leads, one decimal. */
  mean_score: number | null;
  /** New leads per source. */
  by_source: Record<string, number>;
}

export const LEADS_COLUMNS: readonly ReportColumn<LeadsRow>[] = [
  { key: 'date' },
  { key: 'leads' },
  { key: 'merged' },
  { key: 'mean_score' },
  {
    key: 'by_source',
    csv: (v) =>
      Object.entries(v as LeadsRow['by_source'])
        .map(([source, n]) => `${source}:${n}`)
        .join('; '),
  },
];

interface Day {
  leads: number;
  merged: number;
  scoreSum: number;
  bySource: Map<string, number>;
}

/**
 * Reads the lead sink file (`DATA_DIR/leads.jsonl`) line by line and sums
 * its events per UTC day of submission within `[from, to]`: memory grows
 * with the days in the period, not with the leads. A missing file is a
 * report with no rows (e.g. when leads go to `LEAD_SINK_URL` instead).
 */
export async function* leadsRows(
  file: string,
  from: string,
  to: string,
  signal: AbortSignal,
): AsyncGenerator<LeadsRow> {
  const days = new Map<string, Day>();
  let input: ReturnType<typeof createReadStream>;
  try {
    input = createReadStream(file, { encoding: 'utf8', signal });
    await new Promise<void>((resolve, reject) => {
      input.once('open', () => resolve());
      input.once('error', reject);
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (!line.trim()) continue;
    let event: { event?: unknown; submitted_at?: unknown; source?: unknown; lead?: { score?: unknown } };
    try {
      event = JSON.parse(line);
    } catch {
      continue; // a torn last line after a crash; the rest of the file is still good
    }
    if (typeof event.submitted_at !== 'string') continue;
    const date = event.submitted_at.slice(0, 10);
    if (date < from || date > to) continue;
    let day = days.get(date);
    if (!day) {
      day = { leads: 0, merged: 0, scoreSum: 0, bySource: new Map() };
      days.set(date, day);
    }
    if (event.event === 'merged') day.merged++;
    else if (event.event === 'created') {
      day.leads++;
      day.scoreSum += typeof event.lead?.score === 'number' ? event.lead.score : 0;
      const source = typeof event.source === 'string' ? event.source : 'unknown';
      day.bySource.set(source, (day.bySource.get(source) ?? 0) + 1);
    }
  }
  for (const date of [...days.keys()].sort()) {
    const d = days.get(date)!;
    yield {
      date,
      leads: d.leads,
      merged: d.merged,
      mean_score: d.leads ? Math.round((d.scoreSum / d.leads) * 10) / 10 : null,
      by_source: Object.fromEntries([...d.bySource].sort((a, b) => a[0].localeCompare(b[0]))),
    };
  }
}
