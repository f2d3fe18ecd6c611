import { diffLines } from 'diff';
import type { Principal } from './auth.ts';
import { html, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';

export interface PageContext {
  lang: Lang;
  principal?: Principal;
  sandbox: boolean;
  path: string;
}

/** The frame of every console page: navigation, language switch, the sandbox banner. */
export function layout(c: PageContext, title: string, body: Html): string {
  const nav = c.principal
    ? html`<nav><a href="/">${t(c.lang, 'dashboard')}</a><a href="/pipelines">${t(c.lang, 'pipelines')}</a><a href="/tickets">${t(c.lang, 'tickets')}</a>
      <span class="who">${c.principal.name ?? c.principal.id} · ${c.principal.role}</span>
      <a href="?lang=${c.lang === 'zh' ? 'en' : 'zh'}">${t(c.lang, 'language')}</a>
      <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="${c.principal.csrf ?? ''}"><button>${t(c.lang, 'signOut')}</button></form></nav>`
    : html`<nav><a href="?lang=${c.lang === 'zh' ? 'en' : 'zh'}">${t(c.lang, 'language')}</a></nav>`;
  return `<!doctype html>${html`<html lang="${c.lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Ticketflow</title><link rel="stylesheet" href="/static/console.css"><script src="/static/console.js" defer></script></head>
<body data-csrf="${c.principal?.csrf ?? ''}"><header><strong>${t(c.lang, 'title')}</strong>${nav}</header>
${c.sandbox ? html`<p class="banner" id="sandbox-banner">${t(c.lang, 'sandbox')}</p>` : ''}
<main><h1>${title}</h1>${body}</main></body></html>`}`;
}

export function signInPage(c: PageContext, message?: string): string {
  return layout(c, t(c.lang, 'signInTitle'), html`${message ? html`<p class="error">${message}</p>` : ''}<p><a class="button" id="sign-in" href="/auth/lark/start">${t(c.lang, 'signIn')}</a></p>`);
}

export function dashboardPage(c: PageContext, stats: { byState: Record<string, number>; failures24h: Record<string, number> }): string {
  const rows = (m: Record<string, number>) => Object.entries(m).sort().map(([k, v]) => html`<tr><td><a href="/tickets?state=${k}"><span class="state ${k}">${k}</span></a></td><td class="num">${v}</td></tr>`);
  return layout(
    c,
    t(c.lang, 'dashboard'),
    html`<section class="cards"><div><h2>${t(c.lang, 'byState')}</h2><table>${rows(stats.byState)}</table></div>
    <div><h2>${t(c.lang, 'failures24h')}</h2>${Object.keys(stats.failures24h).length ? html`<table>${rows(stats.failures24h)}</table>` : html`<p>${t(c.lang, 'none')}</p>`}</div></section>`,
  );
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
}

export function pipelinesPage(c: PageContext, pipelines: PipelineView[], errors: Array<{ file: string; line: number; col: number; message: string; rule: string }>): string {
  const copy = (value: string) => html`<code>${value}</code> <button type="button" class="copy" data-copy="${value}">${t(c.lang, 'copy')}</button>`;
  return layout(
    c,
    t(c.lang, 'pipelines'),
    html`<h2>${t(c.lang, 'loadErrors')}</h2>${errors.length ? html`<ul class="errors">${errors.map((e) => html`<li><code>${e.file}:${e.line}:${e.col}</code> ${e.message} <code>[${e.rule}]</code></li>`)}</ul>` : html`<p>${t(c.lang, 'none')}</p>`}
    ${pipelines.map(
      (p) => html`<section class="pipeline"><h2><a href="/pipelines/${p.name}">${p.name}</a> <small>v${p.version}</small></h2>
      <p>${p.description ?? ''}</p>
      <dl><dt>${t(c.lang, 'owner')}</dt><dd>${p.owner}</dd><dt>${t(c.lang, 'provider')}</dt><dd>${p.provider.type} · <code>${p.provider.code}</code></dd>
      <dt>${t(c.lang, 'stages')}</dt><dd>${Object.entries(p.stages).map(([name, s]) => (s ? html`<div>${name}: ${s.mode} → <code>${s.endpoint}</code>${s.node ? html` (node ${Object.values(s.node).join('')})` : ''}</div>` : ''))}</dd>
      <dt>${t(c.lang, 'fields')}</dt><dd>${Object.entries(p.fields).map(([name, f]) => html`<span class="field"><code>${name}</code>: ${f.type}</span> `)}</dd>
      <dt>${t(c.lang, 'urls')}</dt><dd><div>${t(c.lang, 'eventCallback')}: ${copy(p.urls.event_callback)}</div>${p.urls.external_options.map((o) => html`<div>${t(c.lang, 'externalOptions')} (${o.field}): ${copy(o.url)}</div>`)}</dd></dl></section>`,
    )}`,
  );
}

export function pipelinePage(c: PageContext, name: string, live: number | null, versions: Array<{ version: number; first_loaded_at: Date; file: string; source: string }>, a?: number, b?: number): string {
  const va = versions.find((v) => v.version === a);
  const vb = versions.find((v) => v.version === b);
  const diff = va && vb ? diffLines(va.source, vb.source) : [];
  return layout(
    c,
    `${name}`,
    html`<p>${t(c.lang, 'live')}: ${live === null ? t(c.lang, 'none') : `v${live}`}</p>
    <h2>${t(c.lang, 'versions')}</h2><table><tr><th>v</th><th>${t(c.lang, 'created')}</th><th></th></tr>${versions.map((v) => html`<tr><td>v${v.version}</td><td>${v.first_loaded_at.toISOString()}</td><td><code>${v.file}</code></td></tr>`)}</table>
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
}

export function ticketsPage(c: PageContext, tickets: TicketRow[], filters: Record<string, string | undefined>, states: readonly string[], pipelines: string[], nextUrl?: string): string {
  const sel = (name: string, options: readonly string[]) =>
    html`<select name="${name}"><option value="">${t(c.lang, 'any')}</option>${options.map((o) => html`<option ${filters[name] === o ? html`selected` : ''}>${o}</option>`)}</select>`;
  return layout(
    c,
    t(c.lang, 'tickets'),
    html`<form method="get" class="filters">
    <input name="q" placeholder="${t(c.lang, 'search')}" value="${filters.q ?? ''}">
    <label>${t(c.lang, 'pipelines')} ${sel('pipeline', pipelines)}</label><label>${t(c.lang, 'state')} ${sel('state', states)}</label>
    <label>${t(c.lang, 'applicant')} <input name="applicant" value="${filters.applicant ?? ''}"></label>
    <label>${t(c.lang, 'from')} <input type="date" name="from" value="${filters.from ?? ''}"></label><label>${t(c.lang, 'to')} <input type="date" name="to" value="${filters.to ?? ''}"></label>
    <button>${t(c.lang, 'filter')}</button></form>
    ${tickets.length === 0 ? html`<p>${t(c.lang, 'empty')}</p>` : html`<table class="tickets"><tr><th>ID</th><th>${t(c.lang, 'pipelines')}</th><th>${t(c.lang, 'state')}</th><th>${t(c.lang, 'applicant')}</th><th>${t(c.lang, 'created')}</th></tr>
    ${tickets.map((tk) => html`<tr><td><a href="/tickets/${tk.id}">${tk.id}</a></td><td>${tk.pipeline.name} v${tk.pipeline.version}</td><td><span class="state ${tk.state}">${tk.state}</span></td><td>${tk.applicant.user_id}</td><td>${tk.created_at.toISOString().replace('T', ' ').slice(0, 19)}</td></tr>`)}</table>`}
    ${nextUrl ? html`<p><a id="next-page" href="${nextUrl}">${t(c.lang, 'next')} →</a></p>` : ''}`,
  );
}

export function ticketPage(
  c: PageContext,
  ticket: TicketRow & { stage: string | null; fields: Record<string, unknown>; attempts: number; field_problems: string[] },
  audit: Array<{ at: Date; actor: string; event: string; from_state: string | null; to_state: string; detail: unknown }>,
  calls: Array<{ at: Date; target: string; stage: string | null; action: string; attempt: number; request: unknown; response: unknown; status: number | null; error: string | null; latency_ms: number }>,
): string {
  const canAct = c.principal?.role === 'operator';
  const actions = ['needs_operator', 'awaiting_check_callback', 'awaiting_execute_callback', 'checking', 'executing'].includes(ticket.state);
  return layout(
    c,
    ticket.id,
    html`<p><span class="state ${ticket.state}" id="ticket-state">${ticket.state}</span> ${ticket.stage ? html`· ${ticket.stage}` : ''} · ${t(c.lang, 'pinned')}: <a href="/pipelines/${ticket.pipeline.name}">${ticket.pipeline.name} v${ticket.pipeline.version}</a> · ${ticket.provider.instance_code}</p>
    ${actions ? html`<section class="actions"><h2>${t(c.lang, 'actions')}</h2>${canAct ? html`<form class="action" data-action="/api/v1/tickets/${ticket.id}/retry"><button id="retry">${t(c.lang, 'retry')}</button></form>
      <form class="action" data-action="/api/v1/tickets/${ticket.id}/resolve"><button id="resolve">${t(c.lang, 'resolve')}</button></form>
      <form class="action" data-action="/api/v1/tickets/${ticket.id}/reject"><input name="comment" required placeholder="${t(c.lang, 'comment')}"><button id="reject">${t(c.lang, 'reject')}</button></form>
      <p class="error" id="action-error" hidden></p>` : html`<p>${t(c.lang, 'viewerOnly')}</p>`}</section>` : ''}
    <h2>${t(c.lang, 'fields')}</h2><table>${Object.entries(ticket.fields).map(([k, v]) => html`<tr><td><code>${k}</code></td><td><code>${JSON.stringify(v)}</code></td></tr>`)}</table>
    ${ticket.field_problems.length ? html`<ul class="errors">${ticket.field_problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}
    <h2>${t(c.lang, 'timeline')}</h2><table class="timeline">${audit.map((a) => html`<tr><td>${a.at.toISOString().replace('T', ' ').slice(0, 23)}</td><td>${a.actor}</td><td>${a.event}</td><td>${a.from_state && a.from_state !== a.to_state ? html`${a.from_state} → ` : ''}<span class="state ${a.to_state}">${a.to_state}</span></td><td><code>${JSON.stringify(a.detail)}</code></td></tr>`)}</table>
    <h2>${t(c.lang, 'calls')}</h2>${calls.map((call) => html`<details class="call"><summary>${call.at.toISOString().replace('T', ' ').slice(11, 23)} · ${call.target} ${call.stage ?? ''} ${call.action} #${call.attempt} · ${call.status ?? '—'} · ${call.latency_ms} ms ${call.error ? html`· <span class="error">${call.error}</span>` : ''}</summary>
      <h3>${t(c.lang, 'request')}</h3><pre>${JSON.stringify(call.request, null, 2)}</pre><h3>${t(c.lang, 'response')}</h3><pre>${JSON.stringify(call.response, null, 2)}</pre></details>`)}`,
  );
}
