import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { durationChart, niceCeiling, stackedBarChart } from './charts.ts';

const rects = (svg: string) =>
  [...svg.matchAll(/<rect class="bar ([^"]+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"([^>]*)>/g)].map((m) => ({
    cls: m[1]!,
    x: Number(m[2]),
    y: Number(m[3]),
    width: Number(m[4]),
    height: Number(m[5]),
    attrs: m[6]!,
  }));

describe('the dashboard charts (SVG drawn on the server)', () => {
  const days = ['2026-11-20', '2026-11-21', '2026-11-22'];

  test('stacked bars: each part as tall as its count, stacked from the axis, labelled by day, with a legend of totals', () => {
    const svg = stackedBarChart(days, [
      { key: 'completed', label: 'Completed', values: [4, 0, 2] },
      { key: 'rejected', label: 'Rejected', values: [1, 0, 3] },
    ], { title: 'Tickets per day', empty: 'none' }).text;
    assert.match(svg, /^<svg class="chart" viewBox="0 0 480 220" role="img" aria-label="Tickets per day">/);
    const bars = rects(svg);
    assert.equal(bars.length, 4, 'no rectangle for a zero count');
    const unit = bars[0]!.height / 4;
    assert.ok(unit > 0);
    for (const b of bars) assert.ok(Math.abs(b.height - unit * Number(/data-value="(\d+)"/.exec(b.attrs)![1]) ) < 0.11, `${b.cls} ${b.attrs}: proportional`);
    const [c1, r1, c3, r3] = bars;
    assert.ok(Math.abs(r1!.y + r1!.height - c1!.y) < 0.11, 'the second part sits on the first');
    assert.ok(Math.abs(c1!.y + c1!.height - (c3!.y + c3!.height)) < 0.11, 'every bar starts at the same baseline');
    assert.ok(c3!.x > c1!.x, 'days left to right');
    assert.equal(r3!.cls, 's-rejected', 'the colour comes from the series class');
    for (const label of ['11-20', '11-21', '11-22']) assert.match(svg, new RegExp(`>${label}</text>`));
    assert.match(svg, /<title>2026-11-22 · Rejected: 3<\/title>/);
    assert.match(svg, /<li><span class="swatch s-completed"><\/span>Completed <span class="muted">6<\/span><\/li>/);
    assert.deepEqual([...svg.matchAll(/text-anchor="end">(\d+)<\/text>/g)].map((m) => m[1]), ['0', '5'], 'the count axis: 0 and the round number at or above the tallest bar');
    assert.match(svg, /text-anchor="middle">5<\/text>/, 'each bar says its total');
    assert.doesNotMatch(svg, /style=|<script/, 'nothing the CSP would refuse');
  });

  test('no tickets at all: a sentence, not an empty frame', () => {
    const out = stackedBarChart(days, [{ key: 'completed', label: 'Completed', values: [0, 0, 0] }], { title: 't', empty: 'No tickets in this period.' }).text;
    assert.equal(out, '<p class="empty">No tickets in this period.</p>');
    assert.equal(durationChart([{ key: 'approval', label: 'Human approval', p50: 0, p90: 0, n: 0 }], { title: 't', empty: 'nothing finished', format: String }).text, '<p class="empty">nothing finished</p>');
  });

  test('labels are escaped', () => {
    const svg = stackedBarChart(['2026-11-20'], [{ key: 'open', label: '<img src=x>', values: [1] }], { title: '"t"', empty: '' }).text;
    assert.doesNotMatch(svg, /<img/);
    assert.match(svg, /&lt;img src=x&gt;/);
    assert.match(svg, /aria-label="&quot;t&quot;"/);
  });

  test('stage durations: p90 and p50 bars on a logarithmic axis, the numbers written out, round ticks', () => {
    const svg = durationChart(
      [
        { key: 'approval', label: 'Human approval', p50: 3_600_000, p90: 36_000_000, n: 12 },
        { key: 'check_call', label: 'Check call', p50: 20, p90: 200, n: 30 },
      ],
      { title: 'Time per stage', empty: '', format: (ms) => `${ms}ms` },
    ).text;
    const [a90, a50, c90, c50] = rects(svg);
    assert.deepEqual([a90!.cls, a50!.cls, c90!.cls, c50!.cls], ['p90 s-approval', 'p50 s-approval', 'p90 s-check_call', 'p50 s-check_call']);
    assert.ok(a90!.width > a50!.width && c90!.width > c50!.width, 'p90 beyond p50');
    // Logarithmic: ×10 is the same length wherever it is.
    assert.ok(Math.abs(a90!.width - a50!.width - (c90!.width - c50!.width)) < 0.2, 'a tenfold step has one length');
    assert.ok(c50!.width > 0 && a90!.width <= 472.01, 'the smallest and largest fit');
    assert.match(svg, /p50 3600000ms · p90 36000000ms · n=12/);
    assert.match(svg, />Check call<\/text>/);
    assert.deepEqual([...svg.matchAll(/class="tick"[^>]*>([^<]+)</g)].map((m) => m[1]), ['10ms', '100ms', '1000ms', '10000ms', '60000ms', '600000ms', '3600000ms', '86400000ms']);
  });

  test('round axis tops', () => {
    assert.deepEqual([0, 1, 3, 7, 10, 11, 26, 140, 999].map(niceCeiling), [1, 1, 5, 10, 10, 20, 50, 200, 1000]);
  });
});
