import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { fieldViews } from './field-view.ts';
import { formatDuration, timeTag } from './format.ts';
import { html, type Html } from './html.ts';
import { stateName, t, type Lang, type MessageKey } from './i18n.ts';
import { layout, type PageContext, type TicketRow } from './pages.ts';
import { imName, timeline, type AuditEntry, type CallRecord } from './timeline.ts';

export interface TicketView extends TicketRow {
  stage: string | null;
  fields: Record<string, unknown>;
  attempts: number;
  field_problems: string[];
  provider: TicketRow['provider'] & { type: string };
}

/** States in which an operator may reject: a stage is under way or waits for them. */
const rejectable = ['needs_operator', 'awaiting_check_callback', 'awaiting_execute_callback', 'checking', 'executing'];

/**
 * One ticket: its state, the fields as the pinned pipeline version names them, the history as sentences (each
 * with its raw audit entry behind a disclosure), every call, and the operator's actions — retry set apart from the
 * two that end the stage, which ask for confirmation.
 */
export function ticketPage(c: PageContext, ticket: TicketView, pipeline: Pipeline | undefined, audit: AuditEntry[], calls: Array<CallRecord & { request: unknown; response: unknown }>): string {
  const { lang } = c;
  const canAct = c.principal?.role === 'operator';
  const stuck = ticket.state === 'needs_operator';
  const im = imName(lang, ticket.provider.type);
  const items = timeline(audit, calls, { lang, im: ticket.provider.type, applicant: ticket.applicant.user_id, pipeline });
  const stage = ticket.stage ? html` · ${t(lang, 'stage')}: ${t(lang, ticket.stage === 'execute' ? 'executeWord' : 'checkWord')}` : '';
  const actions = canAct
    ? html`${stuck ? html`<form class="action" data-action="/api/v1/tickets/${ticket.id}/retry"><button id="retry">${t(lang, 'retry')}</button></form>` : ''}
      <div class="destructive"><p class="muted">${t(lang, 'destructiveNote')}</p>
      ${stuck ? html`<form class="action" data-action="/api/v1/tickets/${ticket.id}/resolve" data-confirm="confirmResolve" data-ticket="${ticket.id}"><button id="resolve" class="danger">${t(lang, 'resolve')}</button></form>` : ''}
      <form class="action reject" data-action="/api/v1/tickets/${ticket.id}/reject" data-confirm="confirmReject" data-ticket="${ticket.id}"><input name="comment" required placeholder="${t(lang, 'comment')}" aria-label="${t(lang, 'comment')}"><button id="reject" class="danger">${t(lang, 'reject')}</button></form></div>
      <p class="error" id="action-error" role="alert" hidden></p>`
    : html`<p>${t(lang, 'viewerOnly')}</p>`;
  return layout(
    c,
    ticket.id,
    html`<p class="ticket-head"><span class="state ${ticket.state}" id="ticket-state" data-state="${ticket.state}" title="${ticket.state}">${stateName(lang, ticket.state)}</span>${ticket.escalated_at ? html` <span class="badge escalated" id="ticket-escalated" title="escalated_at">${t(lang, 'escalated')}</span>` : ''}${stage}
    · ${t(lang, 'applicant')}: ${ticket.applicant.user_id} · ${t(lang, 'created')}: ${timeTag(ticket.created_at)}
    · ${t(lang, 'pinned')}: <a href="/pipelines/${ticket.pipeline.name}">${ticket.pipeline.name} v${ticket.pipeline.version}</a>
    · ${im} ${t(lang, 'instance')}: <code>${ticket.provider.instance_code}</code></p>
    ${ticket.escalated_at ? html`<p class="notice" id="escalated-since">${escalatedSince(lang, ticket.escalated_at)}</p>` : ''}
    ${rejectable.includes(ticket.state) ? html`<section class="actions"><h2>${t(lang, 'actions')}</h2>${actions}</section>` : ''}
    <h2>${t(lang, 'fields')}</h2><div class="scroll"><table class="fields"><tr><th>${t(lang, 'field')}</th><th>${t(lang, 'value')}</th></tr>${fieldViews(ticket.fields, pipeline?.fields, lang).map(
      (f) => html`<tr><td><span title="${f.name}">${f.label}</span>${f.description ? html`<div class="muted small">${f.description}</div>` : ''}</td><td>${f.value}</td></tr>`,
    )}</table></div>
    ${ticket.field_problems.length ? html`<ul class="errors">${ticket.field_problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}
    <details class="raw"><summary>${t(lang, 'rawJson')}</summary><pre>${JSON.stringify(ticket.fields, null, 2)}</pre></details>
    <h2>${t(lang, 'timeline')}</h2><ol class="timeline">${items.map(
      (i) => html`<li class="tone-${i.tone}">${timeTag(i.at, 'millisecond')} <span class="sentence">${i.text}</span>${i.entered ? html` <span class="entered">→ <span class="state ${i.entered}" title="${i.entered}">${stateName(lang, i.entered)}</span></span>` : ''}
      <details class="raw"><summary>${t(lang, 'rawJson')}</summary><pre>${JSON.stringify(i.entry, null, 2)}</pre></details></li>`,
    )}</ol>
    <h2>${t(lang, 'calls')}</h2>${calls.map(
      (call) => html`<details class="call"><summary>${timeTag(call.at, 'millisecond')} · ${call.target === 'business' ? t(lang, 'callBusiness') : call.target === 'events' ? t(lang, 'callEvents') : imName(lang, call.target)} · ${call.stage ? `${t(lang, call.stage === 'execute' ? 'executeWord' : 'checkWord')} ` : ''}${actionName(lang, call.action)} · ${t(lang, 'callAttempt', { n: call.attempt })} · ${call.status === null ? '—' : `HTTP ${call.status}`} · ${formatDuration(call.latency_ms, lang)}${call.error && call.error !== `HTTP ${call.status}` ? html` · <span class="error">${call.error}</span>` : ''}</summary>
      <h3>${t(lang, 'request')}</h3><pre>${JSON.stringify(call.request, null, 2)}</pre><h3>${t(lang, 'response')}</h3><pre>${JSON.stringify(call.response, null, 2)}</pre></details>`,
    )}`,
  );
}

function actionName(lang: Lang, action: string): string {
  const keys: Record<string, MessageKey> = { call: 'actCall', 'call (async)': 'actCallAsync', 'task approve': 'actTaskApprove', 'task reject': 'actTaskReject', comment: 'actComment', notify: 'actNotify', 'create instance': 'actCreate', event: 'actEvent', remind: 'actRemind', 'end instance': 'actEndInstance' };
  return keys[action] ? t(lang, keys[action]!) : action;
}

/** "Escalated since <time>: …", the time in the reader's zone (static/console.js). */
function escalatedSince(lang: Lang, at: Date | string): Html {
  const [before, after] = t(lang, 'escalatedSince').split('{time}');
  return html`${before}${timeTag(at)}${after}`;
}
