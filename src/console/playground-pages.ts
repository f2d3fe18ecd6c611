import { html, type Html } from './html.ts';
import { finalStates, type TicketState } from '../engine/ticket.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { stateName, t, type Lang, type MessageKey } from './i18n.ts';
import { layout, type PageContext } from './pages.ts';
import type { FormProblem, PlaygroundControl, PlaygroundOption } from './playground-form.ts';
import type { PlaygroundInstance } from './playground-simulator.ts';
import { timeline, type AuditEntry, type CallRecord } from './timeline.ts';

/** Suggested sandbox users: anyone can be a requester; `manager` approves (the sandbox's approval definitions). */
export const SANDBOX_USERS = ['alice', 'bob', 'carol', 'manager'];

const assets = html`<link rel="stylesheet" href="/static/playground.css"><script src="/static/playground.js" defer></script>`;

export interface PlaygroundPipeline {
  name: string;
  version: number;
  description: string | null;
}

/** The Playground: pick a pipeline, fill the form generated from its fields, submit as a requester. */
export function playgroundPage(c: PageContext, pipelines: PlaygroundPipeline[], selected: { name: string; controls: PlaygroundControl[] } | undefined): string {
  const l = c.lang;
  return layout(
    c,
    t(l, 'playground'),
    html`${assets}<p class="pg-intro">${t(l, 'pgIntro')}</p>
    ${pipelines.length === 0 ? html`<p>${t(l, 'pgNoPipelines')}</p>` : ''}
    <nav class="pg-pipelines" aria-label="${t(l, 'pgPipeline')}">${pipelines.map((p) => html`<a class="pg-pipeline${p.name === selected?.name ? ' current' : ''}" data-pipeline="${p.name}" href="/playground?pipeline=${encodeURIComponent(p.name)}"><b><strong>${p.name}</strong> <small>v${p.version}</small></b><span>${p.description ?? ''}</span></a>`)}</nav>
    ${selected ? html`<form id="pg-form" class="pg-form" data-pipeline="${selected.name}" novalidate>
      <h2>${selected.name}</h2>
      <div id="pg-fields">${selected.controls.map((control) => fieldHtml(l, control))}</div>
      <datalist id="pg-users">${SANDBOX_USERS.map((u) => html`<option value="${u}">`)}</datalist>
      <div class="pg-submit"><label for="pg-requester">${t(l, 'pgRequester')}</label> <input id="pg-requester" name="requester" value="alice" list="pg-users" required autocomplete="off">
      <button id="pg-submit" type="submit">${t(l, 'pgSubmit')}</button></div>
      <p class="error" id="pg-error" data-unreachable="${t(l, 'pgUnreachable')}" hidden></p>
    </form>` : ''}`,
  );
}

function fieldHtml(l: Lang, control: PlaygroundControl): Html {
  const id = `pg-f-${control.name}`;
  return html`<div class="pg-field" data-field="${control.name}" data-type="${control.type}">
    <label for="${id}">${control.label}${control.label !== control.name ? html` <code>${control.name}</code>` : ''} <span class="${control.required ? 'pg-required' : 'pg-optional'}">${t(l, control.required ? 'pgRequired' : 'pgOptional')}</span></label>
    <div class="pg-input">${inputHtml(l, control, id)}</div>
    ${control.description ? html`<small class="pg-help">${control.description}</small>` : ''}
    <p class="pg-problem" hidden></p>
  </div>`;
}

/** The input of one control; `id` names it for its label (table cells have none and carry an aria-label). */
function inputHtml(l: Lang, control: PlaygroundControl, id?: string): Html {
  const attrs = html`${id ? html`id="${id}"` : html`aria-label="${control.label}"`} ${control.required ? html`required` : ''}`;
  const initial = typeof control.default === 'string' || typeof control.default === 'number' ? String(control.default) : '';
  switch (control.type) {
    case 'textarea':
      return html`<textarea ${attrs} rows="3">${initial}</textarea>`;
    case 'number':
      return html`<input ${attrs} type="number" step="any" value="${initial}">`;
    case 'amount':
      return html`<span class="pg-amount"><input ${attrs} type="number" step="0.01" min="0" value="${initial}"> <span>${control.currency}</span></span>`;
    case 'date':
      return html`<input ${attrs} type="date" value="${initial}">`;
    case 'datetime':
      return html`<input ${attrs} type="datetime-local" value="${initial}">`;
    case 'date_range':
    case 'datetime_range': {
      const type = control.type === 'date_range' ? 'date' : 'datetime-local';
      return html`<span class="pg-range"><input ${attrs} type="${type}" data-part="start" aria-label="${t(l, 'pgStart')}"> – <input type="${type}" data-part="end" aria-label="${t(l, 'pgEnd')}"></span>`;
    }
    case 'person':
      return html`<input ${attrs} type="text" list="pg-users" placeholder="${t(l, 'pgUserId')}" autocomplete="off" value="${initial}">`;
    case 'people':
      return html`<input ${attrs} type="text" placeholder="${t(l, 'pgUserIds')}" autocomplete="off" value="${initial}">`;
    case 'department':
    case 'departments':
      return html`<input ${attrs} type="text" placeholder="${t(l, control.type === 'department' ? 'pgDepartmentId' : 'pgDepartmentIds')}" value="${initial}">`;
    case 'option':
      if (!control.options) return html`<input ${attrs} type="text" placeholder="${t(l, 'pgOptionId')}" value="${initial}"><small class="pg-note">${t(l, 'pgSourceDown')}</small>`;
      return html`<select ${attrs}><option value="">${t(l, 'pgChoose')}</option>${control.options.map((o) => html`<option value="${o.id}" ${o.id === initial ? html`selected` : ''}>${optionLabel(l, o)}</option>`)}</select>`;
    case 'options':
      if (!control.options) return html`<input ${attrs} type="text" placeholder="${t(l, 'pgOptionIds')}" value="${initial}"><small class="pg-note">${t(l, 'pgSourceDown')}</small>`;
      return html`<span class="pg-choices" ${id ? html`id="${id}"` : ''}>${control.options.map((o) => html`<label class="pg-choice"><input type="checkbox" value="${o.id}"> ${optionLabel(l, o)}</label>`)}</span>`;
    case 'attachments':
      return html`<textarea ${attrs} rows="2" placeholder="${t(l, 'pgUrls')}"></textarea>`;
    case 'document':
      return html`<input ${attrs} type="url" placeholder="https://">`;
    case 'phone':
      return html`<input ${attrs} type="tel" placeholder="${t(l, 'pgPhone')}" value="${initial}">`;
    case 'table': {
      const row = html`<tr class="pg-row">${(control.columns ?? []).map((col) => html`<td data-field="${col.name}" data-type="${col.type}">${inputHtml(l, col)}</td>`)}</tr>`;
      return html`<table class="pg-table" ${id ? html`id="${id}"` : ''}><thead><tr>${(control.columns ?? []).map((col) => html`<th>${col.label}${col.required ? ' *' : ''}${col.description ? html`<small class="pg-help">${col.description}</small>` : ''}</th>`)}</tr></thead><tbody>${row}</tbody></table>
        <template class="pg-row-template">${row}</template><button type="button" class="pg-add-row">${t(l, 'pgAddRow')}</button>`;
    }
    default:
      return html`<input ${attrs} type="text" value="${initial}">`;
  }
}

function optionLabel(l: Lang, o: PlaygroundOption): string {
  const label = l === 'en' ? (o.label_en ?? o.label) : o.label;
  return label === o.id ? label : `${label} (${o.id})`;
}

export function playgroundNotFoundPage(c: PageContext): string {
  return layout(c, t(c.lang, 'playground'), html`${assets}<p class="error">${t(c.lang, 'pgNotFound')}</p><p><a class="button" href="/playground">${t(c.lang, 'playground')}</a></p>`);
}

/** The sentence for one problem of the form, in the reader's language. */
export function problemText(l: Lang, p: FormProblem): string {
  const text = t(l, `pgProblem_${p.problem}` as MessageKey);
  return p.row ? `${t(l, 'pgRow', { n: p.row })} · ${p.column}: ${text}` : text;
}

export interface WatchView {
  pipeline: string;
  stages: Array<'check' | 'execute'>;
  instance: PlaygroundInstance;
  assistant: string;
  ticket?: { id: string; state: string; stage: string | null; fields: Record<string, unknown>; field_problems: string[] };
  /** The live version of the pipeline, when it is still live (the timeline names retry waits from it). */
  spec?: Pipeline;
  audit: AuditEntry[];
  calls: Array<CallRecord & { request: unknown; response: unknown }>;
  done: boolean;
}

/** The page that follows one instance: its tasks to decide, and the ticket moving with every call it causes. */
export function watchPage(c: PageContext, v: WatchView): string {
  const l = c.lang;
  // The sections as markup (watchSections gives them as text, for the page's script to swap in).
  const s = { progress: progressHtml(l, v), tasks: tasksHtml(l, v), ticket: ticketHtml(l, v), calls: callsHtml(l, v), timeline: timelineHtml(l, v) };
  const code = v.instance.instance_code;
  return layout(
    c,
    `${t(l, 'playground')} · ${v.pipeline}`,
    html`${assets}<p class="pg-summary">${t(l, 'pgRequestedBy')} <strong>${v.instance.user_id}</strong> · ${t(l, 'pgInstance')} <code id="pg-instance-code">${code}</code></p>
    <div id="pg-watch" data-state-url="/playground/instances/${encodeURIComponent(code)}/state" data-done="${v.done ? 'true' : 'false'}" data-lang="${l}">
      <section id="pg-progress" class="pg-progress">${s.progress}</section>
      <div class="pg-columns"><section id="pg-tasks">${s.tasks}</section><section id="pg-ticket">${s.ticket}</section></div>
      <section id="pg-calls">${s.calls}</section>
      <section id="pg-timeline">${s.timeline}</section>
      <p id="pg-live" class="pg-live">${t(l, v.done ? 'pgFinished' : 'pgLive')}</p>
    </div>
    <p class="error" id="pg-error" data-unreachable="${t(l, 'pgUnreachable')}" hidden></p>
    <p><a class="button" id="pg-again" href="/playground?pipeline=${encodeURIComponent(v.pipeline)}">${t(l, 'pgSubmitAnother')}</a></p>`,
  );
}

/** The parts of the watch page that change; the page's script swaps each one when it differs. */
export function watchSections(l: Lang, v: WatchView): { progress: string; tasks: string; ticket: string; calls: string; timeline: string; live: string } {
  return {
    progress: progressHtml(l, v).text,
    tasks: tasksHtml(l, v).text,
    ticket: ticketHtml(l, v).text,
    calls: callsHtml(l, v).text,
    timeline: timelineHtml(l, v).text,
    live: t(l, v.done ? 'pgFinished' : 'pgLive'),
  };
}

type StepState = 'todo' | 'active' | 'done' | 'failed' | 'attention' | 'ended';
type Step = { key: MessageKey; state: StepState; label?: string };

/**
 * Where the ticket stands on check → approval → execute, from its state. A final state names itself on the last
 * step: done when completed, failed when refused (by the check, an approver or an operator) or execution failed,
 * ended when canceled or expired; the step it ended at shows the same, found from the state it left.
 */
function steps(l: Lang, v: WatchView): Step[] {
  const order: Array<'check' | 'approval' | 'execute'> = [...(v.stages.includes('check') ? ['check' as const] : []), 'approval', ...(v.stages.includes('execute') ? ['execute' as const] : [])];
  const state = v.ticket?.state;
  const current: Record<string, 'check' | 'approval' | 'execute' | 'done'> = {
    checking: 'check',
    awaiting_check_callback: 'check',
    rejected_by_check: 'check',
    in_approval: 'approval',
    rejected_by_approver: 'approval',
    executing: 'execute',
    awaiting_execute_callback: 'execute',
    execute_failed: 'execute',
    completed: 'done',
  };
  const operatorStep = () => (v.ticket?.stage as 'check' | 'execute' | null) ?? 'check';
  const stepOf = (s: string | null | undefined) => (s === 'needs_operator' ? operatorStep() : s ? current[s] : undefined);
  const final = state !== undefined && finalStates.has(state as TicketState);
  // A final state other than completed ended where the ticket was: the state its last transition left.
  const left = final && state !== 'completed' ? [...v.audit].reverse().find((a) => a.to_state === state)?.from_state : undefined;
  const at = stepOf(left) ?? stepOf(state);
  const index = at === 'done' ? order.length : at ? order.indexOf(at) : -1;
  const end: StepState = !final ? 'todo' : state === 'completed' ? 'done' : state === 'canceled' || state === 'expired' ? 'ended' : 'failed';
  const out = order.map((step, i): Step => {
    const key: MessageKey = step === 'check' ? 'pgStepCheck' : step === 'approval' ? 'pgStepApproval' : 'pgStepExecute';
    if (i < index) return { key, state: 'done' };
    if (i > index) return { key, state: 'todo' };
    return { key, state: final ? end : state === 'needs_operator' ? 'attention' : 'active' };
  });
  return [...out, { key: 'pgStepDone', state: end, label: final ? stateName(l, state!) : undefined }];
}

function progressHtml(l: Lang, v: WatchView): Html {
  return html`<ol class="pg-steps">${steps(l, v).map((s) => html`<li class="pg-step ${s.state}" data-step="${s.key}">${s.label ?? t(l, s.key)}</li>`)}</ol>`;
}

function tasksHtml(l: Lang, v: WatchView): Html {
  const code = v.instance.instance_code;
  const tasks = v.instance.task_list;
  return html`<h2>${t(l, 'pgTasks')}</h2><p>${t(l, 'pgInstanceStatus')}: <span class="pg-instance-status" id="pg-instance-status">${v.instance.status}</span></p>
  ${tasks.length === 0 ? html`<p>${t(l, 'pgNoTasks')}</p>` : ''}
  <ul class="pg-task-list">${tasks.map((task) => {
    const mine = task.user_id === v.assistant;
    return html`<li class="pg-task ${task.status.toLowerCase()}" data-user="${task.user_id}"><span class="pg-node">${task.node_name}</span> · <strong>${task.user_id}</strong> · <span class="pg-task-status">${task.status}</span>
      ${task.status !== 'PENDING' ? '' : mine ? html`<small class="pg-note">${t(l, 'pgAssistantTask')}</small>` : html`<form class="pg-decide" data-action="/playground/instances/${encodeURIComponent(code)}/tasks/${encodeURIComponent(task.id)}">
        <input name="comment" placeholder="${t(l, 'pgComment')}" aria-label="${t(l, 'pgComment')}">
        <button type="button" class="pg-approve" data-decision="approve" data-user="${task.user_id}">${t(l, 'pgApproveAs', { user: task.user_id })}</button>
        <button type="button" class="pg-reject" data-decision="reject" data-user="${task.user_id}">${t(l, 'pgRejectAs', { user: task.user_id })}</button></form>`}</li>`;
  })}</ul>`;
}

function ticketHtml(l: Lang, v: WatchView): Html {
  const tk = v.ticket;
  if (!tk) return html`<h2>${t(l, 'pgTicket')}</h2><p class="pg-waiting">${t(l, 'pgWaitingTicket')}</p>`;
  return html`<h2>${t(l, 'pgTicket')}</h2><p><span class="state ${tk.state}" id="pg-ticket-state" data-state="${tk.state}" title="${tk.state}">${stateName(l, tk.state)}</span>${tk.stage ? html` · ${tk.stage}` : ''} · <a id="pg-ticket-link" href="/tickets/${encodeURIComponent(tk.id)}">${t(l, 'pgOpenTicket')}</a></p>
  <table class="pg-fields">${Object.entries(tk.fields).map(([k, val]) => html`<tr><td><code>${k}</code></td><td><code>${JSON.stringify(val)}</code></td></tr>`)}</table>
  ${tk.field_problems.length ? html`<ul class="errors">${tk.field_problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}`;
}

function callsHtml(l: Lang, v: WatchView): Html {
  return html`<h2>${t(l, 'pgCalls')}</h2>${v.calls.length === 0 ? html`<p>${t(l, 'pgNoCalls')}</p>` : ''}
  ${v.calls.map((call) => {
    const reply = replyOf(call.response);
    return html`<details class="pg-call ${call.target}"><summary><span class="pg-time">${clock(call.at)}</span> <strong>${call.target}</strong> ${call.stage ?? ''} ${call.action} #${call.attempt} · ${call.status ?? '—'} · ${call.latency_ms} ms${reply ? html` · <span class="${reply.ok ? 'pg-ok' : 'error'}">${reply.text}</span>` : ''}${call.error ? html` · <span class="error">${call.error}</span>` : ''}</summary>
      <h3>${t(l, 'pgRequest')}</h3><pre>${JSON.stringify(call.request, null, 2)}</pre><h3>${t(l, 'pgResponse')}</h3><pre>${JSON.stringify(call.response, null, 2)}</pre></details>`;
  })}`;
}

function timelineHtml(l: Lang, v: WatchView): Html {
  const items = timeline(v.audit, v.calls, { lang: l, im: 'lark', applicant: v.instance.user_id, pipeline: v.spec });
  return html`<h2>${t(l, 'pgTimeline')}</h2>${items.length === 0 ? html`<p>${t(l, 'pgWaitingTicket')}</p>` : ''}
  <ol class="timeline pg-timeline">${items.map((i) => html`<li class="tone-${i.tone}"><span class="pg-time">${clock(i.at)}</span> <span class="sentence">${i.text}</span>${i.entered ? html` → <span class="state ${i.entered}" title="${i.entered}">${stateName(l, i.entered)}</span>` : ''}</li>`)}</ol>`;
}

/** What a business reply or a Lark answer said, in one line. */
function replyOf(response: unknown): { ok: boolean; text: string } | undefined {
  const body = (response as { body?: unknown } | null)?.body ?? response;
  const r = body as { result?: unknown; msg?: unknown; error?: unknown; code?: unknown } | null;
  if (!r || typeof r !== 'object') return undefined;
  if (typeof r.result === 'boolean') return { ok: r.result, text: String((r.result ? r.msg : r.error) ?? (r.result ? '✓' : '✗')) };
  if (typeof r.code === 'number') return { ok: r.code === 0, text: r.code === 0 ? 'ok' : `${r.code} ${String(r.msg ?? '')}` };
  return undefined;
}

function clock(at: Date): string {
  return new Date(at).toISOString().slice(11, 23);
}
