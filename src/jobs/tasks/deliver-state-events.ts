import type { PoolClient } from 'pg';
import { OutboundError, outboundPolicy, outboundRequest } from '../../business/outbound.ts';
import { IDEMPOTENCY_HEADER, signRequestV11 } from '../../business/signature.ts';
import type { TaskPayloads } from '../../effects/tasks.ts';
import { afterFailure, hostOf, stateEventOf, type Destination } from '../../state-events/event.ts';
import { recordCallAttempt } from '../../store/sql/call-attempts.ts';
import { nextEventDelivery, type HeadDelivery } from '../../store/sql/next-event-delivery.ts';
import { recordEventAttempt } from '../../store/sql/record-event-attempt.ts';
import { withTryLock } from '../../store/try-lock.ts';
import type { JobDeps } from '../deps.ts';

/** One attempt: the reply is read up to this, within this. */
const TIMEOUT_MS = 10_000;
const MAX_REPLY_BYTES = 64 << 10;

/**
 * Delivers a ticket's state-change events to one destination, strictly in order: only the first undelivered one is
 * ever sent, and the next only once it was answered 2xx. One run at a time per ticket and destination, on any
 * replica (a session advisory lock; a run that finds it held leaves the work to the holder, which looks again after
 * letting go, so an event committed meanwhile is never left behind). A failed attempt is tried again after a wait
 * (a job for then); a delivery failing past TICKETFLOW_EVENTS_GIVE_UP_MS, or refused by the outbound guard, is
 * dead and holds the later ones until an operator redelivers it (state-events/state-events.ts). A crash between
 * the POST and its record sends the event again, with the same id: at least once.
 */
export async function deliverStateEventsTask(deps: JobDeps, p: TaskPayloads['deliver_state_events']): Promise<void> {
  const key = `ticketflow:state-events:${p.ticket_id}:${p.destination}`;
  for (;;) {
    const run = await withTryLock(deps.pool, key, (db) => drain(deps, db, p));
    if (!run.ran) return;
    const head = await nextEventDelivery(deps.pool, p.ticket_id, p.destination);
    if (!head || head.status === 'dead' || !head.due) return;
  }
}

/** Sends what is due, in order, until the queue is empty, waits, or stops at a dead event. */
async function drain(deps: JobDeps, db: PoolClient, p: TaskPayloads['deliver_state_events']): Promise<void> {
  for (;;) {
    const head = await nextEventDelivery(db, p.ticket_id, p.destination);
    if (!head || head.status === 'dead') return;
    if (!head.due) {
      // Woken early (another change of the ticket while this one waits): make sure a run comes when it is due.
      await later(deps, p, head.nextAttemptAt);
      return;
    }
    if (!(await attempt(deps, db, p, head))) return;
  }
}

/** One attempt at the head; true when it was delivered (the next may go). */
async function attempt(deps: JobDeps, db: PoolClient, p: TaskPayloads['deliver_state_events'], head: HeadDelivery): Promise<boolean> {
  const { config, log, metrics } = deps;
  const target = await targetOf(deps, p.destination, head.pipeline);
  const event = stateEventOf(
    {
      ticketId: p.ticket_id,
      pipeline: head.pipeline,
      seq: head.seq,
      from: head.from,
      to: head.to,
      cause: head.event,
      actor: head.actor,
      at: head.at,
      stage: head.stage,
      provider: { type: head.provider, definitionCode: head.definitionCode, instanceCode: head.instanceCode },
      applicant: head.applicant,
      fields: head.fields,
    },
    p.destination,
  );
  const raw = JSON.stringify(event);
  const host = 'url' in target ? hostOf(target.url) : undefined;
  const started = performance.now();
  let status: number | undefined;
  let error: string | undefined;
  let refused = false;
  let retryAfter: number | undefined;
  if ('refused' in target) {
    error = target.refused;
    refused = true;
  } else {
    try {
      const res = await outboundRequest(target.url, {
        headers: { 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: event.id, 'user-agent': 'ticketflow/1', ...signRequestV11(target.secret, { method: 'POST', path: target.url, idempotencyKey: event.id, rawBody: raw }) },
        body: raw,
        timeoutMs: TIMEOUT_MS,
        maxBytes: MAX_REPLY_BYTES,
        policy: outboundPolicy(config),
      });
      status = res.status;
      if (res.status < 200 || res.status >= 300) {
        error = `HTTP ${res.status}`;
        const asked = Number(res.headers['retry-after']);
        if (Number.isFinite(asked)) retryAfter = asked;
      }
    } catch (e) {
      // The guard's refusal quotes the URL, whose path or query may carry a token: stored, logged and shown by host.
      error = withoutUrl((e as Error).message, target.url);
      refused = e instanceof OutboundError && e.kind === 'refused';
    }
  }
  const latencyMs = performance.now() - started;
  const now = new Date(head.now.getTime() + latencyMs);
  let verdict: 'delivered' | 'retry' | 'dead' = 'delivered';
  let delayMs: number | undefined;
  if (refused) verdict = 'dead';
  else if (error !== undefined) {
    const next = afterFailure(config.events, head.attempts + 1, head.firstAttemptAt ?? head.now, now, retryAfter);
    verdict = next.dead ? 'dead' : 'retry';
    if (!next.dead) delayMs = next.delayMs;
  }
  // On the run's own connection: should it be gone (the process lost its database), nothing is recorded and the
  // event goes again, with the same id.
  const recorded = await recordEventAttempt(db, { ticketId: p.ticket_id, destination: p.destination, auditId: head.auditId, startedAt: head.now, outcome: verdict, delayMs, status, error });
  metrics.stateEventDeliveries.inc({ destination: p.destination, outcome: verdict === 'retry' ? 'failed' : verdict });
  await recordCallAttempt(deps.pool, { ticketId: p.ticket_id, target: 'events', action: 'event', attempt: head.attempts + 1, request: { destination: p.destination, host: host ?? null, body: event }, status, error, latencyMs }).catch((e: Error) =>
    log.warn({ err: e.message, ticket: p.ticket_id }, 'could not record the event delivery attempt'),
  );
  const said = { ticket: p.ticket_id, destination: p.destination, host, event: event.id, attempt: head.attempts + 1, status, err: error };
  if (verdict === 'dead') {
    log.warn(said, `state-change event ${event.id} to the ${p.destination} destination (${host ?? 'no URL'}) is dead${refused ? ' (refused, never sent)' : ' (retries spent)'}: ${error}; the ticket's later events for it wait until an operator redelivers it from the console`);
  } else if (verdict === 'retry') {
    log.debug({ ...said, retry_in_ms: delayMs }, 'state-change event not delivered; it will be tried again');
    if (recorded) await later(deps, p, recorded.nextAttemptAt);
  }
  return verdict === 'delivered';
}

/** `text` with the destination's URL (a token in its path or query) cut down to its scheme and host. */
export function withoutUrl(text: string, url: string): string {
  let shown = '[the destination URL]';
  const forms = [url];
  try {
    const u = new URL(url);
    shown = `${u.protocol}//${u.host}/…`;
    forms.push(u.href);
  } catch {
    // not a URL: the placeholder
  }
  return forms.reduce((t, form) => t.split(form).join(shown), text);
}

/**
 * A run for when the head is due (1 ms late: the database keeps microseconds, a Date milliseconds). One waiting run
 * per ticket and destination: the key replaces the waiting one, whose time was computed for the same head (only the
 * head is ever sent), so changes of state during an outage add no runs. A run already under way is not replaced
 * (graphile-worker unkeys it and adds this one), and every run that finds the head not yet due asks for this again,
 * so a run scheduled without a key (a change of state) next to a keyed one cannot lose the retry.
 */
async function later(deps: JobDeps, p: TaskPayloads['deliver_state_events'], at: Date): Promise<void> {
  await deps.outbox.later({ task: 'deliver_state_events', payload: p, runAt: new Date(at.getTime() + 1), key: `state-events:${p.ticket_id}:${p.destination}`, keyMode: 'replace' });
}

/** Where the destination is now, signed with what; or why the event cannot be sent there. */
async function targetOf(deps: JobDeps, destination: Destination, pipeline: { name: string; version: number }): Promise<{ url: string; secret: string } | { refused: string }> {
  if (destination === 'runtime') {
    const { url, secret } = deps.config.events;
    return url && secret ? { url, secret } : { refused: 'TICKETFLOW_EVENTS_URL is not set (any more) on this replica' };
  }
  const version = await deps.versions.get(pipeline.name, pipeline.version);
  if (!version.events_url || !version.events_secret_env) return { refused: `pipeline ${pipeline.name} v${pipeline.version} has no events_url and events_secret_env` };
  const secret = deps.secret(version.events_secret_env);
  return secret ? { url: version.events_url, secret } : { refused: `${version.events_secret_env} is not set on this replica` };
}
