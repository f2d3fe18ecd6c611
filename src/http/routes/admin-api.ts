import type Router from '@koa/router';
import type { Context } from 'koa';
import { requireRole } from '../../console/auth.ts';
import type { TicketEvent } from '../../engine/events.ts';
import { ticketStates } from '../../engine/ticket.ts';
import { definitionCode } from '../../registry/registry.ts';
import { getTicket } from '../../store/sql/get-ticket.ts';
import { listTickets } from '../../store/sql/list-tickets.ts';
import { openTicketsByVersion } from '../../store/sql/open-tickets-by-version.ts';
import { pipelineVersionsOf } from '../../store/sql/pipeline-versions-of.ts';
import { ticketHistory } from '../../store/sql/ticket-history.ts';
import type { StoredTicket } from '../../store/sql/ticket-row.ts';
import { ticketStats } from '../../store/sql/ticket-stats.ts';
import type { AppDeps } from '../deps.ts';
import { jsonBody, rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { cursor, date, queryParams } from '../query.ts';
import { textProblem } from '../../intake/storable.ts';
import { isDestination } from '../../state-events/event.ts';

/** The admin API (README, "The operator console"): the console's data and actions as JSON, for operators and automation. */
export function adminApiRoutes(router: Router, deps: AppDeps): void {
  const { pool, registry, versions, config } = deps;
  const viewer = requireRole('viewer');
  const operator = requireRole('operator');

  router.get('/api/v1/tickets', viewer, async (ctx) => {
    const q = queryParams(ctx);
    if (q.state && !(ticketStates as readonly string[]).includes(q.state)) throw new HttpError(400, 'bad_state', `state must be one of ${ticketStates.join(', ')}`);
    const limit = q.limit ? Number(q.limit) : 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new HttpError(400, 'bad_limit', 'limit must be 1..200');
    if (q.escalated !== undefined && !['1', 'true', '0', 'false'].includes(q.escalated)) throw new HttpError(400, 'bad_escalated', 'escalated must be 1 (or true): only escalated tickets, or 0 (or false): every ticket');
    const page = await listTickets(pool, { pipeline: q.pipeline, state: q.state, applicant: q.applicant, from: date(q.from, 'from'), to: date(q.to, 'to'), enteredSince: date(q.entered_since, 'entered_since'), escalated: q.escalated === '1' || q.escalated === 'true', q: q.q?.trim() || undefined, after: cursor(q.cursor), limit });
    ctx.body = { tickets: page.tickets.map(summary), next_cursor: page.next ? Buffer.from(JSON.stringify(page.next)).toString('base64url') : null };
  });

  router.get('/api/v1/tickets/stats', viewer, async (ctx) => {
    ctx.body = await ticketStats(pool);
  });

  router.get('/api/v1/tickets/:id', viewer, async (ctx) => {
    const ticket = await getTicket(pool, ticketId(ctx));
    if (!ticket) throw new HttpError(404, 'unknown_ticket', `no ticket ${ctx.params.id}`);
    ctx.body = { ...summary(ticket), ...(await ticketHistory(pool, ticket.id)) };
  });

  const action = (build: (ctx: Context, body: Record<string, unknown>) => TicketEvent) => async (ctx: Context) => {
    const body = ctx.request.rawBody.length ? jsonBody(ctx) : {};
    const event = build(ctx, body);
    const ticket = await getTicket(pool, ticketId(ctx));
    if (!ticket) throw new HttpError(404, 'unknown_ticket', `no ticket ${ctx.params.id}`);
    const pipeline = await versions.get(ticket.pipeline.name, ticket.pipeline.version);
    const actor = ctx.state.principal!.id;
    const t = await deps.tickets.apply(ticket, event, pipeline, `operator:${actor}`);
    if (!t.changed) throw new HttpError(409, 'not_applicable', `ticket ${ticket.id} is ${t.ticket.state}; ${event.type.replace('operator_', '')} does not apply`);
    deps.log.info({ ticket: ticket.id, action: event.type, actor }, 'operator action');
    ctx.body = summary(t.ticket);
  };
  const comment = (body: Record<string, unknown>, required: boolean) => {
    const c = typeof body.comment === 'string' ? body.comment.trim() : '';
    if (required && !c) throw new HttpError(400, 'comment_required', 'a comment is required: the requester reads it in the IM');
    return c || undefined;
  };
  router.post('/api/v1/tickets/:id/retry', viewer, operator, rawBody(64 << 10), action((ctx) => ({ type: 'operator_retry', actor: ctx.state.principal!.id })));
  router.post('/api/v1/tickets/:id/reject', viewer, operator, rawBody(64 << 10), action((ctx, b) => ({ type: 'operator_reject', actor: ctx.state.principal!.id, comment: comment(b, true)! })));
  router.post('/api/v1/tickets/:id/resolve', viewer, operator, rawBody(64 << 10), action((ctx, b) => ({ type: 'operator_resolve', actor: ctx.state.principal!.id, comment: comment(b, false) })));

  // State-change events (README, "State-change events"): the dead letters, and putting a ticket's back in order.
  router.get('/api/v1/events/dead', viewer, async (ctx) => {
    const letters = (await deps.stateEvents?.deadLetters()) ?? [];
    ctx.body = { dead: letters.map((d) => ({ ticket_id: d.ticketId, destination: d.destination, host: d.host, pipeline: d.pipeline, seq: d.seq, from: d.from, to: d.to, attempts: d.attempts, last_status: d.lastStatus, last_error: d.lastError, dead_since: d.deadSince, dead: d.dead, held: d.held })) };
  });

  router.post('/api/v1/tickets/:id/events/:destination/redeliver', viewer, operator, rawBody(4096), async (ctx) => {
    const destination = ctx.params.destination!;
    if (!isDestination(destination)) throw new HttpError(404, 'unknown_destination', 'the destination is pipeline or runtime');
    const ticket = await getTicket(pool, ticketId(ctx));
    if (!ticket) throw new HttpError(404, 'unknown_ticket', `no ticket ${ctx.params.id}`);
    const redelivered = (await deps.stateEvents?.redeliver(ticket.id, destination)) ?? 0;
    if (!redelivered) throw new HttpError(409, 'nothing_dead', `ticket ${ticket.id} has no dead event for the ${destination} destination`);
    const actor = ctx.state.principal!.id;
    await deps.tickets.record(ticket, `operator:${actor}`, 'events_redelivered', { destination, events: redelivered });
    deps.log.info({ ticket: ticket.id, destination, events: redelivered, actor }, 'operator action: state-change events redelivered');
    ctx.body = { ticket_id: ticket.id, destination, redelivered };
  });

  router.get('/api/v1/pipelines', viewer, async (ctx) => {
    ctx.body = {
      pipelines: registry.pipelines().map((p) => ({
        name: p.name,
        version: p.version,
        file: p.file,
        owner: p.pipeline.metadata.owner,
        description: p.pipeline.metadata.description ?? null,
        provider: { type: p.pipeline.provider.type, code: definitionCode(p.pipeline) },
        origin: p.pipeline.origin ?? 'im',
        stages: p.pipeline.stages,
        fields: p.pipeline.fields,
        urls: urlsFor(config.publicUrl, p.name, p.pipeline.fields),
      })),
      load_errors: registry.loadErrors(),
    };
  });

  router.get('/api/v1/pipelines/:name/versions', viewer, async (ctx) => {
    const name = ctx.params.name!;
    const [rows, open] = textProblem(name) ? [[], new Map<number, number>()] : await Promise.all([pipelineVersionsOf(pool, name), openTicketsByVersion(pool, name)]);
    if (rows.length === 0) throw new HttpError(404, 'unknown_pipeline', `no pipeline ${name}`);
    ctx.body = { name, live: registry.get(name)?.version ?? null, versions: rows.map((r) => ({ version: r.version, content_hash: r.content_hash, file: r.file, first_loaded_at: r.first_loaded_at, open_tickets: open.get(r.version) ?? 0, source: r.source })) };
  });
}

/** The URLs an admin pastes into Lark: the event callback and each external-options field. */
export function urlsFor(publicUrl: string, name: string, fields: Record<string, { type: string; options_source?: string }>) {
  return {
    event_callback: `${publicUrl}/api/v1/lark/callback`,
    external_options: Object.entries(fields).filter(([, f]) => f.type === 'option' || f.type === 'options').map(([field]) => ({ field, url: `${publicUrl}/field/${name}/${field}` })),
  };
}

export function summary(t: StoredTicket) {
  return {
    id: t.id,
    pipeline: t.pipeline,
    provider: { type: t.provider, definition_code: t.definitionCode, instance_code: t.instanceCode, serial_number: t.serialNumber ?? null },
    state: t.state,
    stage: t.stage ?? null,
    attempts: t.attempts,
    applicant: t.applicant,
    fields: t.fields ?? {},
    field_problems: t.fieldProblems ?? [],
    results: t.results,
    deadline_at: t.deadlineAt ?? null,
    escalated_at: t.escalatedAt ?? null,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
  };
}

/** A ticket id that cannot be stored names no ticket. */
function ticketId(ctx: Context): string {
  const id = ctx.params.id!;
  if (textProblem(id)) throw new HttpError(404, 'unknown_ticket', 'no such ticket');
  return id;
}

