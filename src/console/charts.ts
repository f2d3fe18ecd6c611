import { html, type Html } from './html.ts';

/**
 * The dashboard's pictures, drawn as inline SVG on the server: no script, no style attribute (the CSP allows
 * neither), colours from console.css through the classes `s-<series>`.
 */

export interface Series {
  /** A class-safe key: the colour is `.s-<key>`. */
  key: string;
  label: string;
  /** One value per day, in the order of `days`. */
  values: number[];
}

const W = 480;
const fmt = (n: number) => String(Math.round(n * 10) / 10);

/** The smallest 1, 2 or 5 × 10^k at or above `n` (at least 1): the top of a count axis. */
export function niceCeiling(n: number): number {
  if (n <= 1) return 1;
  const base = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * base >= n) return m * base;
  return 10 * base;
}

/** Stacked bars, one per day (`YYYY-MM-DD`), each series a part of the bar; heights proportional to the counts. */
export function stackedBarChart(days: string[], series: Series[], text: { title: string; empty: string }): Html {
  const totals = days.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  if (totals.every((n) => n === 0)) return html`<p class="empty">${text.empty}</p>`;
  const H = 220;
  const left = 30;
  const top = 16;
  const bottom = 24;
  const plotW = W - left - 4;
  const plotH = H - top - bottom;
  const max = niceCeiling(Math.max(...totals));
  const band = plotW / days.length;
  const barW = Math.max(1, band * 0.72);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const every = Math.ceil(days.length / 10);
  const grid = [0, max / 2, max].filter((v, i, all) => Number.isInteger(v) && all.indexOf(v) === i);
  const bars = days.map((day, i) => {
    const x = left + i * band + (band - barW) / 2;
    let base = 0;
    const parts = series.map((s) => {
      const v = s.values[i] ?? 0;
      if (v <= 0) return '';
      const rect = html`<rect class="bar s-${s.key}" x="${fmt(x)}" y="${fmt(y(base + v))}" width="${fmt(barW)}" height="${fmt((v / max) * plotH)}" data-day="${day}" data-series="${s.key}" data-value="${v}"><title>${day} · ${s.label}: ${v}</title></rect>`;
      base += v;
      return rect;
    });
    const total = totals[i]! > 0 && days.length <= 16 ? html`<text class="total" x="${fmt(x + barW / 2)}" y="${fmt(y(totals[i]!) - 3)}" text-anchor="middle">${totals[i]}</text>` : '';
    const label = i % every === 0 ? html`<text class="tick" x="${fmt(x + barW / 2)}" y="${H - 8}" text-anchor="middle">${day.slice(5)}</text>` : '';
    return html`<g>${parts}${total}${label}</g>`;
  });
  const legend = series.map((s) => html`<li><span class="swatch s-${s.key}"></span>${s.label} <span class="muted">${s.values.reduce((a, b) => a + b, 0)}</span></li>`);
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${text.title}"><title>${text.title}</title>
${grid.map((v) => html`<line class="grid" x1="${left}" x2="${W - 4}" y1="${fmt(y(v))}" y2="${fmt(y(v))}"></line><text class="tick" x="${left - 4}" y="${fmt(y(v) + 4)}" text-anchor="end">${v}</text>`)}
${bars}</svg><ul class="legend">${legend}</ul>`;
}

export interface DurationRow {
  key: string;
  label: string;
  p50: number;
  p90: number;
  /** How many measurements. */
  n: number;
}

/** Round durations for a logarithmic axis, in ms: 1 ms … 1 week. */
const TICKS = [1, 10, 100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000, 604_800_000];

/**
 * Median and 90th percentile per row, as two bars on one logarithmic axis (human approval takes hours, a business
 * call milliseconds: on a linear axis the calls would not show). The numbers are written out on every row.
 */
export function durationChart(rows: DurationRow[], text: { title: string; empty: string; format: (ms: number) => string }): Html {
  const shown = rows.filter((r) => r.n > 0);
  if (shown.length === 0) return html`<p class="empty">${text.empty}</p>`;
  const lowest = Math.max(1, Math.min(...shown.map((r) => r.p50)));
  const highest = Math.max(...shown.map((r) => r.p90));
  const lo = [...TICKS].reverse().find((v) => v <= lowest) ?? 1;
  const hi = TICKS.find((v) => v >= highest && v > lo) ?? TICKS.at(-1)!;
  const x = (ms: number) => ((Math.log(Math.min(hi, Math.max(lo, ms))) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * (W - 8) + 4;
  const rowH = 38;
  const H = shown.length * rowH + 22;
  const body = shown.map((r, i) => {
    const top = i * rowH;
    return html`<g class="row" data-key="${r.key}"><text class="label" x="4" y="${top + 13}">${r.label}</text>
<text class="value" x="${W - 4}" y="${top + 13}" text-anchor="end">p50 ${text.format(r.p50)} · p90 ${text.format(r.p90)} · n=${r.n}</text>
<rect class="bar p90 s-${r.key}" x="4" y="${top + 18}" width="${fmt(x(r.p90) - 4)}" height="12" data-ms="${r.p90}"><title>${r.label} p90: ${text.format(r.p90)}</title></rect>
<rect class="bar p50 s-${r.key}" x="4" y="${top + 18}" width="${fmt(x(r.p50) - 4)}" height="12" data-ms="${r.p50}"><title>${r.label} p50: ${text.format(r.p50)}</title></rect></g>`;
  });
  const ticks = TICKS.filter((v) => v >= lo && v <= hi).map((v, i, all) => {
    const anchor = i === 0 ? 'start' : i === all.length - 1 ? 'end' : 'middle';
    return html`<line class="grid" x1="${fmt(x(v))}" x2="${fmt(x(v))}" y1="16" y2="${H - 18}"></line><text class="tick" x="${fmt(x(v))}" y="${H - 6}" text-anchor="${anchor}">${text.format(v)}</text>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${text.title}"><title>${text.title}</title>${ticks}${body}</svg>`;
}
