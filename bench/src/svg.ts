// Small SVG charts written by the bench itself (no chart library): grouped bars.

/** One group of bars (e.g. one concurrency level), one bar per series. */
export interface BarGroup {
  label: string;
  values: Record<string, number>;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  groups: BarGroup[];
  /** Series names in drawing order, with their colours. */
  series: { name: string; color: string }[];
  /** Printed under the chart (machine, date). */
  note?: string;
}

const W = 640;
const H = 360;
const M = { top: 48, right: 20, bottom: 70, left: 70 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function fmt(x: number): string {
  if (x >= 10_000) return `${Math.round(x / 1000)}k`;
  if (x >= 1000) return `${(x / 1000).toFixed(1)}k`;
  if (x >= 10) return String(Math.round(x));
  return x.toFixed(x >= 1 ? 1 : 2);
}

/** A grouped bar chart: groups along x, one bar per series, values printed on the bars. */
export function barChart(o: BarChartOptions): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const max = niceMax(Math.max(...o.groups.flatMap((g) => Object.values(g.values))));
  const y = (v: number) => M.top + plotH - (v / max) * plotH;
  const groupW = plotW / Math.max(1, o.groups.length);
  const barW = (groupW * 0.7) / o.series.length;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">${esc(o.title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (max * i) / 5;
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`,
      `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${fmt(v)}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(o.yLabel)}</text>`,
  );
  o.groups.forEach((g, gi) => {
    const x0 = M.left + gi * groupW + groupW * 0.15;
    o.series.forEach((s, si) => {
      const v = g.values[s.name] ?? 0;
      const x = x0 + si * barW;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(M.top + plotH - y(v)).toFixed(1)}" fill="${s.color}"/>`,
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#333">${fmt(v)}</text>`,
      );
    });
    // A label may have several lines ("\n").
    const cx = (M.left + gi * groupW + groupW / 2).toFixed(1);
    const lines = g.label
      .split('\n')
      .map((line, li) => `<tspan x="${cx}" dy="${li === 0 ? 0 : 14}">${esc(line)}</tspan>`)
      .join('');
    out.push(`<text x="${cx}" y="${M.top + plotH + 18}" text-anchor="middle" fill="#333">${lines}</text>`);
  });
  o.series.forEach((s, si) => {
    const x = M.left + si * 170;
    out.push(
      `<rect x="${x}" y="${H - 30}" width="12" height="12" fill="${s.color}"/>`,
      `<text x="${x + 18}" y="${H - 20}" fill="#333">${esc(s.name)}</text>`,
    );
  });
  if (o.note)
    out.push(
      `<text x="${W - M.right}" y="${H - 8}" text-anchor="end" font-size="10" fill="#777">${esc(o.note)}</text>`,
    );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export const OURS = { name: 'Solar Tasks', color: '#e07b00' };
export const RAW = { name: 'raw BullMQ', color: '#4a6fa5' };
