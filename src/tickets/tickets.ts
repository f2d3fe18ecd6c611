import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { TicketEvent } from '../engine/events.ts';
import { humanStepSchedule, transition, type Transition } from '../engine/machine.ts';
import type { Ticket } from '../engine/ticket.ts';
import type { Outbox, Transaction } from '../effects/outbox.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { claimApiRequest, type ApiRequest } from '../store/sql/claim-api-request.ts';
import { noteEventOnTicket } from '../store/sql/inbound-events.ts';
import { markEventProcessed } from '../store/sql/mark-event-processed.ts';
import { appendAudit } from '../store/sql/append-audit.ts';
import { insertEventDeliveries } from '../store/sql/insert-event-deliveries.ts';
import { getTicket } from '../store/sql/get-ticket.ts';
import { getTicketByInstance } from '../store/sql/get-ticket-by-instance.ts';
import { insertTicket } from '../store/sql/insert-ticket.ts';
import { lockTicket } from '../store/sql/lock-ticket.ts';
import type { StoredTicket } from '../store/sql/ticket-row.ts';
import { updateTicket } from '../store/sql/update-ticket.ts';
import type { Destination } from '../state-events/event.ts';
import { deliveryJobs, jobFor } from './jobs.ts';
import { needsOperatorAlarm, openedLine, ticketUrl, transitionLine } from './narration.ts';
import type { Alarms } from '../alarms/alarm.ts';

export type { StoredTicket };

export const newTicketId = () => `tk_${randomBytes(12).toString('base64url')}`;

/** A transition as applied, with the ticket as it now is. */
export type Applied = Transition & { ticket: StoredTicket };

/** The IM event a write consumes: marked processed in the same commit. */
export interface Consumed {
  provider: string;
  eventId: string;
}

export interface ApplyOptions {
  /** Added to the audit entry. */
  detail?: Record<string, unknown>;
  consumes?: Consumed;
}

/** What to apply to a ticket, decided once its row is locked. */
export interface Decision {
  pipeline: Pipeline;
  events: TicketEvent[];
}

/** Where each ticket's story is told: one info line per opening and per change of state, with its console URL. */
export interface Narration {
  log: Logger;
  /** The console's base URL (PUBLIC_URL). */
  consoleUrl: string;
  /** Raised once per committed transition into `needs_operator` (by the process that committed it). */
  alarms?: Alarms;
}

/** Who receives the state-change events of a pipeline's tickets (none: no event is kept for them). */
export type EventDestinations = (pipeline: Pipeline) => readonly Destination[];

/**
 * The only door to ticket state. Every change goes through the state machine and commits together with its audit
 * entry, its effects (through the outbox) and the IM event it consumes; nothing else writes a ticket. A change of
 * state also commits the deliveries of its event (README, "State-change events") and the runs that send them.
 */
export class Tickets {
  constructor(
    private readonly pool: Pool,
    private readonly outbox: Outbox,
    private readonly metrics: Metrics,
    private readonly narration?: Narration,
    private readonly eventDestinations: EventDestinations = () => [],
  ) {}

  get(id: string): Promise<StoredTicket | undefined> {
    return getTicket(this.pool, id);
  }

  byInstance(provider: string, instanceCode: string): Promise<StoredTicket | undefined> {
    return getTicketByInstance(this.pool, provider, instanceCode);
  }

  /**
   * Applies an event to the ticket as read. Without a lock: one statement writes the outcome if the ticket is
   * still at the version read. If another writer changed it first, the event is applied again to the ticket as
   * it now is, under its row lock.
   */
  async apply(ticket: StoredTicket, event: TicketEvent, pipeline: Pipeline, actor: string, options: ApplyOptions = {}): Promise<Applied> {
    const t = transition(ticket, event, pipeline, new Date());
    if (!t.changed) {
      if (options.consumes) await markEventProcessed(this.pool, options.consumes.provider, options.consumes.eventId);
      return { ...t, ticket };
    }
    const destinations = t.ticket.state === ticket.state ? [] : this.eventDestinations(pipeline);
    const written = await this.outbox.commitTransition(
      { ticketId: ticket.id, version: ticket.version, after: t.ticket, audit: auditOf(ticket, t, event, actor, options.detail), processedEvent: options.consumes, eventDestinations: destinations },
      [...t.effects.map((e) => jobFor(t.ticket, e)), ...deliveryJobs(ticket.id, destinations)],
    );
    if (written) {
      this.moved(ticket, t, event);
      return { ...t, ticket: { ...ticket, ...t.ticket, version: ticket.version + 1 } };
    }
    const locked = await this.applyLocked(ticket.id, actor, async () => ({ pipeline, events: [event] }), options);
    return locked ?? { ...t, changed: false, ticket };
  }

  /**
   * Locks the ticket, lets `decide` choose the events from the ticket as it is, and applies them in order, in one
   * transaction. `undefined` when there is no such ticket or nothing was decided.
   */
  async applyLocked(ticketId: string, actor: string, decide: (ticket: StoredTicket) => Promise<Decision | undefined>, options: ApplyOptions = {}): Promise<Applied | undefined> {
    const moved: Array<[StoredTicket, Transition, TicketEvent]> = [];
    const applied = await this.outbox.transaction(async (tx) => {
      let ticket = await lockTicket(tx.db, ticketId);
      const decision = ticket && (await decide(ticket));
      let last: Applied | undefined;
      for (const event of decision?.events ?? []) {
        const t = await applyInTransaction(tx, ticket!, event, decision!.pipeline, actor, options.detail, this.eventDestinations);
        if (t.changed) moved.push([ticket!, t, event]);
        ticket = t.ticket;
        last = { ...t, changed: t.changed || last?.changed === true };
      }
      if (options.consumes) await markEventProcessed(tx.db, options.consumes.provider, options.consumes.eventId);
      return last;
    });
    for (const [before, t, event] of moved) this.moved(before, t, event);
    return applied;
  }

  /**
   * Opens the ticket of an IM instance (unless the instance has one already) and applies the event that came
   * with it, or notes it; consumes the IM event in the same commit.
   */
  async openFromInstance(opened: Ticket & { fieldProblems: string[] }, pipeline: Pipeline, actor: string, then: { event?: TicketEvent; note?: Record<string, unknown>; consumes: Consumed }): Promise<StoredTicket> {
    const created: StoredTicket[] = [];
    const moved: Array<[StoredTicket, Transition, TicketEvent]> = [];
    const ticket = await this.outbox.transaction(async (tx) => {
      const inserted = await insertTicket(tx.db, opened);
      let ticket = inserted.ticket;
      if (inserted.created) {
        const auditId = await appendAudit(tx.db, { ticketId: ticket.id, actor, event: 'ticket_opened', to: ticket.state, detail: { pipeline: ticket.pipeline, field_problems: opened.fieldProblems } });
        await owesEvents(tx, ticket, auditId, this.eventDestinations(pipeline));
        created.push(ticket);
        // A pipeline without a check stage opens its tickets in approval: the human step's timer starts now.
        await tx.schedule(...humanStepSchedule(ticket, pipeline, new Date()).map((e) => jobFor(ticket, e)));
      }
      const detail = { event_id: then.consumes.eventId };
      if (then.event) {
        const t = await applyInTransaction(tx, ticket, then.event, pipeline, actor, detail, this.eventDestinations);
        if (t.changed) moved.push([ticket, t, then.event]);
        ticket = t.ticket;
      } else if (then.note) {
        await appendAudit(tx.db, { ticketId: ticket.id, actor, event: 'im_task', from: ticket.state, to: ticket.state, detail: { ...then.note, ...detail } });
      }
      await markEventProcessed(tx.db, then.consumes.provider, then.consumes.eventId);
      return ticket;
    });
    for (const t of created) this.opened(t);
    for (const [before, t, event] of moved) this.moved(before, t, event);
    return ticket;
  }

  /**
   * Opens a ticket a business system asked for, claiming its Idempotency-Key in the same commit; its first
   * effects (the check call, or the IM instance) start after it. `key_in_flight`: another request holds the key.
   * `pipeline`: the version opened on, whose events_url hears of the opening.
   */
  async openFromApi(opened: { ticket: Ticket; effects: Transition['effects'] }, request: Omit<ApiRequest, 'ticketId'>, detail: Record<string, unknown>, pipeline?: Pipeline): Promise<StoredTicket | 'key_in_flight'> {
    const ticket = await this.outbox.transaction(async (tx) => {
      const { ticket } = await insertTicket(tx.db, opened.ticket);
      if (!(await claimApiRequest(tx.db, { ...request, ticketId: ticket.id }))) throw new KeyInFlight();
      const auditId = await appendAudit(tx.db, { ticketId: ticket.id, actor: 'api', event: 'ticket_opened', to: ticket.state, detail: { pipeline: ticket.pipeline, ...detail } });
      if (pipeline) await owesEvents(tx, ticket, auditId, this.eventDestinations(pipeline));
      await tx.schedule(...opened.effects.map((e) => jobFor(ticket, e)));
      return ticket;
    }).catch((e: unknown) => {
      if (e instanceof KeyInFlight) return 'key_in_flight' as const;
      throw e;
    });
    if (ticket !== 'key_in_flight') this.opened(ticket);
    return ticket;
  }

  /** Something that happened to a ticket without changing its state (an IM call's outcome), for its history. */
  async record(ticket: Ticket, actor: string, event: string, detail: Record<string, unknown>): Promise<void> {
    await appendAudit(this.pool, { ticketId: ticket.id, actor, event, from: ticket.state, to: ticket.state, detail });
  }

  /**
   * An IM event that changes no state (a human's task), kept in the ticket's history and consumed. `acted`: a human
   * approver acted on their task: in the same commit the ticket's reminder clock starts over and its human-step
   * timer is recomputed (the history entry is the note itself).
   */
  async noteImEvent(ticket: Ticket, consumes: Consumed, note: Record<string, unknown>, acted?: { pipeline: Pipeline }): Promise<void> {
    const detail = { ...note, event_id: consumes.eventId };
    const act: TicketEvent = { type: 'approver_acted' };
    if (!acted || !transition(ticket, act, acted.pipeline, new Date()).changed) {
      await noteEventOnTicket(this.pool, ticket.id, consumes.provider, consumes.eventId, detail);
      return;
    }
    await this.outbox.transaction(async (tx) => {
      const locked = await lockTicket(tx.db, ticket.id);
      const t = locked && transition(locked, act, acted.pipeline, new Date());
      if (t?.changed) {
        await updateTicket(tx.db, t.ticket);
        await tx.schedule(...t.effects.map((e) => jobFor(t.ticket, e)));
      }
      await noteEventOnTicket(tx.db, ticket.id, consumes.provider, consumes.eventId, detail);
    });
  }

  private opened(ticket: Ticket): void {
    this.metrics.ticketsOpened.inc({ pipeline: ticket.pipeline.name });
    const n = this.narration;
    n?.log.info({ ticket: ticket.id, pipeline: ticket.pipeline.name, to: ticket.state, console: ticketUrl(n.consoleUrl, ticket.id) }, openedLine(ticket, n.consoleUrl));
  }

  /** A committed transition; counted and told when it entered another state, whatever caused it (IM, business, clock, operator). */
  private moved(before: Ticket, t: Transition, event: TicketEvent): void {
    if (event.type === 'approval_escalated') this.escalated(t.ticket);
    if (t.ticket.state === before.state) return;
    this.metrics.ticketTransitions.inc({ pipeline: before.pipeline.name, state: t.ticket.state });
    const n = this.narration;
    n?.log.info({ ticket: before.id, pipeline: before.pipeline.name, from: before.state, to: t.ticket.state, console: ticketUrl(n.consoleUrl, before.id) }, transitionLine(before, t.ticket, event, n.consoleUrl));
    if (t.ticket.state === 'needs_operator') n?.alarms?.raise(needsOperatorAlarm(before, t.ticket, event, n.consoleUrl));
  }
  /** An escalation (a flag, not a state): counted, and told at warn level with its console URL. */
  private escalated(ticket: Ticket): void {
    this.metrics.ticketsEscalated.inc({ pipeline: ticket.pipeline.name });
    const n = this.narration;
    n?.log.warn({ ticket: ticket.id, pipeline: ticket.pipeline.name, console: ticketUrl(n.consoleUrl, ticket.id) }, `ticket ${ticket.id} escalated: still waiting for its approvers: ${ticketUrl(n.consoleUrl, ticket.id)}`);
  }

}

class KeyInFlight extends Error {}

async function applyInTransaction(tx: Transaction, ticket: StoredTicket, event: TicketEvent, pipeline: Pipeline, actor: string, detail: Record<string, unknown> = {}, eventDestinations: EventDestinations = () => []): Promise<Applied> {
  const t = transition(ticket, event, pipeline, new Date());
  if (!t.changed) return { ...t, ticket };
  await updateTicket(tx.db, t.ticket);
  const auditId = await appendAudit(tx.db, { ticketId: ticket.id, ...auditOf(ticket, t, event, actor, detail) });
  if (t.ticket.state !== ticket.state) await owesEvents(tx, t.ticket, auditId, eventDestinations(pipeline));
  await tx.schedule(...t.effects.map((e) => jobFor(t.ticket, e)));
  return { ...t, ticket: { ...ticket, ...t.ticket, version: ticket.version + 1 } };
}

/** A change of state (its audit entry `auditId`) owes its event to each destination: the deliveries, and the runs that send them. */
async function owesEvents(tx: Transaction, after: Ticket, auditId: string, destinations: readonly Destination[]): Promise<void> {
  if (destinations.length === 0) return;
  await insertEventDeliveries(tx.db, { auditId, ticketId: after.id, destinations, stage: after.stage ?? null, instanceCode: after.instanceCode });
  await tx.schedule(...deliveryJobs(after.id, destinations));
}

function auditOf(before: Ticket, t: Transition, event: TicketEvent, actor: string, detail: Record<string, unknown> = {}) {
  const { type, ...said } = event;
  return { actor, event: type, from: before.state, to: t.ticket.state, detail: { ...said, ...detail, effects: t.effects.map((e) => e.type) } };
}
