import { diffLines } from 'diff';
import type { Drift } from '../doctor/watch.ts';
import { driftBanner, driftBanners } from './drift-banner.ts';
import type { Principal } from './auth.ts';
import { html, type Html } from './html.ts';
import { timeTag } from './format.ts';
import { stateName, t, type Lang } from './i18n.ts';
import { imName } from './timeline.ts';

export interface PageContext {
  lang: Lang;
  principal?: Principal;
  sandbox: boolean;
  path: string;
  /** The page's query string (without `?`): the language switch keeps it. */
  query?: string;
}

/** The frame of every console page: navigation, language switch, the sandbox banner. */
export function layout(c: PageContext, title: string, body: Html): string {
  const nav = c.principal
    ? html`<nav><a href="/">${t(c.lang, 'dashboard')}</a><a href="/pipelines">${t(c.lang, 'pipelines')}</a><a href="/tickets">${t(c.lang, 'tickets')}</a><a href="/events" id="nav-events">${t(c.lang, 'stateEvents')}</a>${c.sandbox ? html`<a href="/playground" id="nav-playground">${t(c.lang, 'playground')}</a><a href="/sandbox" id="nav-sandbox">${t(c.lang, 'sandboxPage')}</a>` : ''}
      <span class="who">${c.principal.name ?? c.principal.id} · ${t(c.lang, c.principal.role === 'operator' ? 'roleOperator' : 'roleViewer')}</span>
      <a href="${languageSwitch(c)}" id="language">${t(c.lang, 'language')}</a>
      <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="${c.principal.csrf ?? ''}"><button>${t(c.lang, 'signOut')}</button></form></nav>`
    : html`<nav><a href="${languageSwitch(c)}" id="language">${t(c.lang, 'language')}</a></nav>`;
  return `<!doctype html>${html`<html lang="${c.lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Ticketflow</title><link rel="stylesheet" href="/static/console.css"><script src="/static/console.js" defer></script></head>
<body data-csrf="${c.principal?.csrf ?? ''}" data-lang="${c.lang}" data-messages="${JSON.stringify(browserMessages(c.lang))}"><header><strong>${t(c.lang, 'title')}</strong>${nav}</header>
${c.sandbox ? html`<p class="banner" id="sandbox-banner">${t(c.lang, 'sandbox')}</p>` : ''}
<main><h1>${title}</h1>${body}</main></body></html>`}`;
}

/** The same page in the other language, with the rest of its query kept (filters, a cursor, a diff's versions). */
export function languageSwitch(c: PageContext): string {
  // A sign-in answer (its one-time code) is not to be replayed: that page switches to the sign-in page.
  const answer = c.path.startsWith('/auth/');
  const params = new URLSearchParams(answer ? '' : (c.query ?? ''));
  params.set('lang', c.lang === 'zh' ? 'en' : 'zh');
  return `${answer ? '/login' : c.path}?${params}`;
}

/** What static/console.js says to the reader, in the page's language. */
function browserMessages(lang: Lang): Record<string, string> {
  const keys = ['confirmReject', 'confirmResolve', 'actionFailed', 'unreachable', 'working', 'copied', 'copyFailed', 'errNotApplicable', 'errCommentRequired', 'errForbidden', 'errCsrf', 'errUnauthenticated', 'errHttp'] as const;
  return Object.fromEntries(keys.map((k) => [k, t(lang, k)]));
}

/**
 * The sign-in page; after a sign-out it says so. In sandbox mode it says too that any console page signs the
 * visitor in again as the local operator, rather than doing it unannounced.
 */
export function signInPage(c: PageContext, message?: string, signedOut = false): string {
  const said = html`${signedOut ? html`<p class="notice" id="signed-out">${t(c.lang, 'signedOut')}${c.sandbox ? html` ${t(c.lang, 'sandboxSignedOut')}` : ''}</p>` : ''}${message ? html`<p class="error">${message}</p>` : ''}`;
  const again = c.sandbox ? html`<a class="button" id="sign-in-again" href="/">${t(c.lang, 'openConsoleAgain')}</a> ` : '';
  return layout(c, t(c.lang, 'signInTitle'), html`${said}<p class="buttons">${again}<a class="button${c.sandbox ? ' secondary' : ''}" id="sign-in" href="/auth/lark/start">${t(c.lang, 'signIn')}</a></p>`);
}

interface PipelineView {
  name: string;
  version: number;
  owner: string;
  description: string | null;
  provider: { type: string; code: string };
  stages: Record<string, { mode: string; endpoint: string; node?: Record<string, string> } | undefined>;
  fields: Record<string, { type: string; widget: Record<string, string> }>;
  urls: { event_callback: string; external_options: Array<{ field: string; url: string }> };
  /** Its IM definition drifted (the drift watch). */
  drift?: Drift;
}

export function pipelinesPage(c: PageContext, pipelines: PipelineView[], errors: Array<{ file: string; line: number; col: number; message: string; rule: string }>): string {
  const copy = (value: string) => html`<code>${value}</code> <button type="button" class="copy" data-copy="${value}">${t(c.lang, 'copy')}</button>`;
  return layout(
    c,
    t(c.lang, 'pipelines'),
    html`<h2>${t(c.lang, 'loadErrors')}</h2>${errors.length ? html`<ul class="errors">${errors.map((e) => html`<li><code>${e.file}:${e.line}:${e.col}</code> ${e.message} <code>[${e.rule}]</code></li>`)}</ul>` : html`<p>${t(c.lang, 'none')}</p>`}
    ${pipelines.map(
      (p) => html`<section class="pipeline"><h2><a href="/pipelines/${p.name}">${p.name}</a> <small>v${p.version}</small></h2>
      ${p.drift ? driftBanner(c.lang, p.drift) : ''}<p>${p.description ?? ''}</p>
      <dl><dt>${t(c.lang, 'owner')}</dt><dd>${p.owner}</dd><dt>${t(c.lang, 'provider')}</dt><dd>${imName(c.lang, p.provider.type)} · <code>${p.provider.code}</code></dd>
      <dt>${t(c.lang, 'stages')}</dt><dd>${Object.entries(p.stages).map(([name, s]) => (s ? html`<div>${name === 'execute' ? t(c.lang, 'executeWord') : name === 'check' ? t(c.lang, 'checkWord') : name}: ${s.mode} → <code>${s.endpoint}</code>${s.node ? html` (${t(c.lang, 'node')} <code>${Object.values(s.node).join('')}</code>)` : ''}</div>` : ''))}</dd>
      <dt>${t(c.lang, 'fields')}</dt><dd>${Object.entries(p.fields).map(([name, f]) => html`<span class="field"><code>${name}</code>: ${f.type}</span> `)}</dd>
      <dt>${t(c.lang, 'urls')}</dt><dd><div>${t(c.lang, 'eventCallback')}: ${copy(p.urls.event_callback)}</div>${p.urls.external_options.map((o) => html`<div>${t(c.lang, 'externalOptions')} (${o.field}): ${copy(o.url)}</div>`)}</dd></dl></section>`,
    )}`,
  );
}

export function pipelinePage(c: PageContext, name: string, live: number | null, versions: Array<{ version: number; first_loaded_at: Date; file: string; source: string }>, a?: number, b?: number, drift?: Drift): string {
  const va = versions.find((v) => v.version === a);
  const vb = versions.find((v) => v.version === b);
  const diff = va && vb ? diffLines(va.source, vb.source) : [];
  return layout(
    c,
    `${name}`,
    html`${drift ? driftBanner(c.lang, drift) : ''}<p>${t(c.lang, 'live')}: ${live === null ? t(c.lang, 'none') : `v${live}`}</p>
    <h2>${t(c.lang, 'versions')}</h2><div class="scroll"><table class="versions"><tr><th>${t(c.lang, 'version')}</th><th>${t(c.lang, 'firstLoaded')}</th><th>${t(c.lang, 'file')}</th></tr>${versions.map((v) => html`<tr><td>v${v.version}${v.version === live ? html` <span class="state completed">${t(c.lang, 'liveMark')}</span>` : ''}</td><td>${timeTag(v.first_loaded_at)}</td><td><code>${v.file}</code></td></tr>`)}</table></div>
    <form method="get" class="filters"><label>A <select name="a">${versions.map((v) => html`<option value="${v.version}" ${v.version === a ? html`selected` : ''}>v${v.version}</option>`)}</select></label>
    <label>B <select name="b">${versions.map((v) => html`<option value="${v.version}" ${v.version === b ? html`selected` : ''}>v${v.version}</option>`)}</select></label><button>${t(c.lang, 'diff')}</button></form>
    ${va && vb ? html`<pre class="diff">${diff.map((part) => html`<span class="${part.added ? 'add' : part.removed ? 'del' : 'same'}">${part.value}</span>`)}</pre>` : ''}`,
  );
}

export interface TicketRow {
  id: string;
  pipeline: { name: string; version: number };
  state: string;
  applicant: { user_id: string };
  provider: { instance_code: string };
  created_at: Date;
  /** When the ticket was escalated (the human step's flag), if it was. */
  escalated_at?: Date | string | null;
}

export function ticketsPage(c: PageContext, tickets: TicketRow[], filters: Record<string, string | undefined>, states: readonly string[], pipelines: string[], nextUrl?: string, drifts: readonly Drift[] = []): string {
  const sel = (name: string, options: readonly string[], label: (o: string) => string = (o) => o) =>
    html`<select name="${name}"><option value="">${t(c.lang, 'any')}</option>${options.map((o) => html`<option value="${o}" ${filters[name] === o ? html`selected` : ''}>${label(o)}</option>`)}</select>`;
  const without = (name: string) => `/tickets?${new URLSearchParams(Object.entries(filters).filter(([k, v]) => k !== name && v) as Array<[string, string]>)}`;
  return layout(
    c,
    t(c.lang, 'tickets'),
    html`${driftBanners(c.lang, drifts)}<form method="get" class="filters">
    <input name="q" placeholder="${t(c.lang, 'search')}" value="${filters.q ?? ''}" aria-label="${t(c.lang, 'search')}">
    <label>${t(c.lang, 'pipelines')} ${sel('pipeline', pipelines)}</label><label>${t(c.lang, 'state')} ${sel('state', states, (s) => stateName(c.lang, s))}</label>
    <label>${t(c.lang, 'applicant')} <input name="applicant" value="${filters.applicant ?? ''}"></label>
    <label>${t(c.lang, 'from')} <input type="date" name="from" value="${filters.from ?? ''}"></label><label>${t(c.lang, 'to')} <input type="date" name="to" value="${filters.to ?? ''}"></label>
<label><input type="checkbox" name="escalated" value="1" id="filter-escalated" ${filters.escalated === '1' ? html`checked` : ''}> ${t(c.lang, 'escalatedOnly')}</label>
    ${filters.entered_since ? html`<input type="hidden" name="entered_since" value="${filters.entered_since}">` : ''}
    <button>${t(c.lang, 'filter')}</button></form>
    ${filters.entered_since ? html`<p class="chip" id="entered-since">${enteredSince(c.lang, filters.entered_since)} · <a href="${without('entered_since')}">${t(c.lang, 'showAll')}</a></p>` : ''}
    ${tickets.length === 0 ? html`<p>${t(c.lang, 'empty')}</p>` : html`<div class="scroll"><table class="tickets"><tr><th>ID</th><th>${t(c.lang, 'pipelines')}</th><th>${t(c.lang, 'state')}</th><th>${t(c.lang, 'applicant')}</th><th>${t(c.lang, 'created')}</th></tr>
    ${tickets.map((tk) => html`<tr><td><a href="/tickets/${tk.id}">${tk.id}</a></td><td data-label="${t(c.lang, 'pipelines')}">${tk.pipeline.name} v${tk.pipeline.version}</td><td><span class="state ${tk.state}" title="${tk.state}">${stateName(c.lang, tk.state)}</span>${tk.escalated_at ? html` <span class="badge escalated" title="escalated_at">${t(c.lang, 'escalated')}</span>` : ''}</td><td data-label="${t(c.lang, 'applicant')}">${tk.applicant.user_id}</td><td data-label="${t(c.lang, 'created')}">${timeTag(tk.created_at)}</td></tr>`)}</table></div>`}
    ${nextUrl ? html`<p><a id="next-page" href="${nextUrl}">${t(c.lang, 'next')} →</a></p>` : ''}`,
  );
}

/** "entered their state since <time>", the time in the reader's zone (static/console.js). */
function enteredSince(lang: Lang, iso: string): Html {
  const [before, after] = t(lang, 'enteredSince').split('{time}');
  return html`${before}${Number.isNaN(Date.parse(iso)) ? iso : timeTag(iso)}${after}`;
}
