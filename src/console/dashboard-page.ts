import type { Drift } from '../doctor/watch.ts';
import { ticketStates } from '../engine/ticket.ts';
import type { StagePart } from '../store/sql/stage-durations.ts';
import { durationChart, stackedBarChart, type Series } from './charts.ts';
import { driftBanners } from './drift-banner.ts';
import { formatDuration, utcOffset } from './format.ts';
import { html } from './html.ts';
import { stateName, t, type MessageKey } from './i18n.ts';
import { layout, type PageContext } from './pages.ts';

export interface DashboardData {
  stats: { byState: Record<string, number>; failures24h: Record<string, number>; failuresSince: string };
  /** The window of the pictures, in days. */
  days: number;
  /** The reader's UTC offset in minutes, when their browser told it; days are UTC days otherwise. */
  offsetMinutes?: number;
  perDay: Array<{ day: string; state: string | null; n: number }>;
  durations: Array<{ part: StagePart; p50: number; p90: number; n: number }>;
  /** How many of the newest tickets the durations come from, at most. */
  durationTickets: number;
  /** Pipelines whose IM definition drifted (the drift watch), shown above everything. */
  drifts?: readonly Drift[];
  /** Tickets escalated and still in approval (the human step), linked to exactly that list. */
  escalated?: number;
}

export type Outcome = 'completed' | 'rejected' | 'failed' | 'canceled' | 'open';
const outcomes: Array<{ key: Outcome; label: MessageKey }> = [
  { key: 'completed', label: 'outcomeCompleted' },
  { key: 'rejected', label: 'outcomeRejected' },
  { key: 'failed', label: 'outcomeFailed' },
  { key: 'canceled', label: 'outcomeCanceled' },
  { key: 'open', label: 'outcomeOpen' },
];

/** Where a ticket in this state stands, in the words of the per-day picture. */
export function outcomeOf(state: string): Outcome {
  if (state === 'completed') return 'completed';
  if (state === 'rejected_by_check' || state === 'rejected_by_approver' || state === 'rejected_by_operator') return 'rejected';
  if (state === 'execute_failed') return 'failed';
  // An expired ticket ended undecided, as a canceled one did: drawn with them.
  if (state === 'canceled' || state === 'expired') return 'canceled';
  return 'open';
}

const parts: Array<{ key: StagePart; label: MessageKey }> = [
  { key: 'approval', label: 'partApproval' },
  { key: 'check', label: 'partCheck' },
  { key: 'check_call', label: 'partCheckCall' },
  { key: 'execute', label: 'partExecute' },
  { key: 'execute_call', label: 'partExecuteCall' },
  { key: 'operator', label: 'partOperator' },
];

/** Counts that link to exactly the tickets they count, and the two pictures. */
export function dashboardPage(c: PageContext, d: DashboardData): string {
  const { lang } = c;
  const ordered = (m: Record<string, number>) => [...ticketStates.filter((s) => m[s]), ...Object.keys(m).filter((s) => !(ticketStates as readonly string[]).includes(s))];
  const counts = (m: Record<string, number>, link: (state: string) => string) =>
    html`<div class="scroll"><table class="counts"><tr><th>${t(lang, 'state')}</th><th class="num">${t(lang, 'count')}</th></tr>${ordered(m).map(
      (s) => html`<tr><td><a href="${link(s)}" class="count-link" data-state="${s}" data-count="${m[s]}"><span class="state ${s}" title="${s}">${stateName(lang, s)}</span></a></td><td class="num">${m[s]}</td></tr>`,
    )}</table></div>`;
  const days = [...new Set(d.perDay.map((r) => r.day))];
  const series: Series[] = outcomes.map((o) => ({
    key: o.key,
    label: t(lang, o.label),
    values: days.map((day) => d.perDay.filter((r) => r.day === day && r.state && outcomeOf(r.state) === o.key).reduce((sum, r) => sum + r.n, 0)),
  }));
  const zone = d.offsetMinutes === undefined ? 'UTC' : utcOffset(d.offsetMinutes);
  const range = [14, 30].map((n) => (n === d.days ? html`<strong>${t(lang, 'lastDays', { n })}</strong>` : html`<a href="/?days=${n}">${t(lang, 'lastDays', { n })}</a>`));
  const rows = parts.map((p) => {
    const m = d.durations.find((x) => x.part === p.key);
    return { key: p.key, label: t(lang, p.label), p50: m?.p50 ?? 0, p90: m?.p90 ?? 0, n: m?.n ?? 0 };
  });
  return layout(
    c,
    t(lang, 'dashboard'),
    html`${driftBanners(lang, d.drifts ?? [])}<section class="cards"><div class="card" id="by-state"><h2>${t(lang, 'byState')}</h2>${Object.keys(d.stats.byState).length ? counts(d.stats.byState, (s) => `/tickets?state=${s}`) : html`<p>${t(lang, 'none')}</p>`}</div>
    <div class="card" id="failures"><h2>${t(lang, 'failures24h')}</h2><p class="muted">${t(lang, 'failuresNote')}</p>${Object.keys(d.stats.failures24h).length ? counts(d.stats.failures24h, (s) => `/tickets?${new URLSearchParams({ state: s, entered_since: d.stats.failuresSince })}`) : html`<p>${t(lang, 'none')}</p>`}</div>
    <div class="card" id="escalated"><h2>${t(lang, 'escalatedWaiting')}</h2><p class="muted">${t(lang, 'escalatedNote')}</p><p><a href="/tickets?state=in_approval&amp;escalated=1" class="count-link" data-count="${d.escalated ?? 0}"><span class="badge escalated">${t(lang, 'escalated')}</span> ${d.escalated ?? 0}</a></p></div></section>
    <section class="cards"><figure class="card" id="per-day" data-offset="${d.offsetMinutes ?? ''}"><h2>${t(lang, 'ticketsPerDay')}</h2><p class="range">${range.map((r, i) => html`${i ? ' · ' : ''}${r}`)}</p>
    ${stackedBarChart(days, series, { title: `${t(lang, 'ticketsPerDay')}, ${t(lang, 'lastDays', { n: d.days })}`, empty: t(lang, 'noTicketsInPeriod') })}
    <figcaption class="muted">${t(lang, 'daysIn', { zone })}</figcaption></figure>
    <figure class="card" id="stage-times"><h2>${t(lang, 'stageTimes')}</h2>
    ${durationChart(rows, { title: t(lang, 'stageTimes'), empty: t(lang, 'noFinishedStages'), format: (ms) => formatDuration(ms, lang) })}
    <figcaption class="muted">${t(lang, 'stageTimesNote', { n: d.durationTickets.toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US'), days: d.days })}</figcaption></figure></section>`,
  );
}
