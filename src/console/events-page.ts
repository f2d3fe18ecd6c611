import type { DeadLetterView } from '../state-events/state-events.ts';
import { timeTag } from './format.ts';
import { html } from './html.ts';
import { stateName, t, type Lang } from './i18n.ts';
import { layout, type PageContext } from './pages.ts';

export interface EventsView {
  /** The host of TICKETFLOW_EVENTS_URL, when set. */
  runtimeHost?: string;
  /** Live pipelines with an events_url: their name and its host. */
  pipelines: Array<{ name: string; host: string | null }>;
  dead: DeadLetterView[];
}

const destinationName = (lang: Lang, destination: string) => t(lang, destination === 'runtime' ? 'seDestRuntime' : 'seDestPipeline');

/**
 * State-change events: where they go (hosts only: a URL may carry a token), and the dead letters — per ticket and
 * destination, the first dead event, why, and how many later ones wait behind it — with a redeliver action for
 * operators (the admin API's, with the session's CSRF token).
 */
export function eventsPage(c: PageContext, v: EventsView): string {
  const { lang } = c;
  const canAct = c.principal?.role === 'operator';
  const change = (from: string | null, to: string) => html`${from ? html`<span class="state ${from}" title="${from}">${stateName(lang, from)}</span> → ` : ''}<span class="state ${to}" title="${to}">${stateName(lang, to)}</span>`;
  return layout(
    c,
    t(lang, 'seTitle'),
    html`<p class="muted">${t(lang, 'seIntro')}</p>
    <h2>${t(lang, 'seDestinations')}</h2><ul id="destinations"><li>${t(lang, 'seDestRuntime')}: ${v.runtimeHost ? html`<code>${v.runtimeHost}</code>` : t(lang, 'seNotSet')}</li>
    ${v.pipelines.map((p) => html`<li>${t(lang, 'seDestPipeline')} · <a href="/pipelines/${p.name}">${p.name}</a>: <code>${p.host ?? '?'}</code></li>`)}</ul>
    <h2>${t(lang, 'seDead')}</h2>${
      v.dead.length === 0
        ? html`<p id="no-dead">${t(lang, 'seNoDead')}</p>`
        : html`${canAct ? html`<p class="muted">${t(lang, 'seRedeliverNote')}</p>` : ''}<div class="scroll"><table class="tickets dead-letters"><tr><th>ID</th><th>${t(lang, 'pipelines')}</th><th>${t(lang, 'seDestination')}</th><th>${t(lang, 'seEvent')}</th><th class="num">${t(lang, 'seAttempts')}</th><th>${t(lang, 'seLastError')}</th><th>${t(lang, 'seDeadSince')}</th><th class="num">${t(lang, 'seHeld')}</th>${canAct ? html`<th>${t(lang, 'actions')}</th>` : ''}</tr>
    ${v.dead.map(
      (d) => html`<tr class="dead-letter" data-ticket="${d.ticketId}" data-destination="${d.destination}"><td><a href="/tickets/${d.ticketId}">${d.ticketId}</a></td><td data-label="${t(lang, 'pipelines')}">${d.pipeline.name} v${d.pipeline.version}</td>
      <td data-label="${t(lang, 'seDestination')}">${destinationName(lang, d.destination)} · <code>${d.host ?? '?'}</code></td><td data-label="${t(lang, 'seEvent')}">#${d.seq} ${change(d.from, d.to)}${d.dead > 1 ? html` <span class="muted">(+${d.dead - 1})</span>` : ''}</td>
      <td class="num" data-label="${t(lang, 'seAttempts')}">${d.attempts}</td><td data-label="${t(lang, 'seLastError')}" class="error">${d.lastError ?? ''}</td><td data-label="${t(lang, 'seDeadSince')}">${timeTag(d.deadSince)}</td><td class="num held" data-label="${t(lang, 'seHeld')}">${d.held}</td>
      ${canAct ? html`<td class="actions"><form class="action" data-action="/api/v1/tickets/${d.ticketId}/events/${d.destination}/redeliver"><button class="redeliver">${t(lang, 'seRedeliver')}</button></form></td>` : ''}</tr>`,
    )}</table></div><p class="error" id="action-error" role="alert" hidden></p>`
    }`,
  );
}
