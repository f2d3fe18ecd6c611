import { finalStates, type Person, type Stage, type TicketState } from '../engine/ticket.ts';

/**
 * State-change events (README, "State-change events"; the wire format is docs/business-contract.md,
 * "State-change events"). Pure: the event of one audit entry, who receives it, and when a failed delivery is tried
 * again. The delivery itself is jobs/tasks/deliver-state-events.ts.
 */

/**
 * Who receives a ticket's events: `pipeline`, the events_url of the version the ticket is pinned to (signed with the
 * pipeline's secret, fields included); `runtime`, TICKETFLOW_EVENTS_URL (signed with TICKETFLOW_EVENTS_SECRET, for
 * every pipeline, fields left out).
 */
export const destinations = ['pipeline', 'runtime'] as const;
export type Destination = (typeof destinations)[number];

export const isDestination = (value: string): value is Destination => (destinations as readonly string[]).includes(value);

/** The destinations of a pipeline's tickets: its own events_url, and the runtime's when one is configured. */
export function destinationsOf(pipeline: { events_url?: string }, runtimeUrl: string | undefined): Destination[] {
  return [...(pipeline.events_url ? (['pipeline'] as const) : []), ...(runtimeUrl ? (['runtime'] as const) : [])];
}

/** An audit entry that changed the ticket's state (the opening included), with what the ticket had then. */
export interface StateChange {
  ticketId: string;
  pipeline: { name: string; version: number };
  /** Counts the ticket's changes of state from 1 (its opening), without gaps. */
  seq: number;
  from: TicketState | null;
  to: TicketState;
  /** The audit entry's event: what caused the change (`business_result`, `instance_closed`, `operator_reject`…). */
  cause: string;
  /** Who or what caused it: `lark`, `dingtalk`, `business`, `clock`, `ticketflow`, `reconciler`, `api`, `operator:<user id>`. */
  actor: string;
  at: Date;
  stage: Stage | null;
  provider: { type: string; definitionCode: string; instanceCode: string };
  applicant: Person;
  fields?: Record<string, unknown>;
}

/** What a destination receives (docs/business-contract.md, "The event"). */
export interface StateEvent {
  id: string;
  type: 'ticket.state_changed';
  ticket_id: string;
  pipeline: { name: string; version: number };
  seq: number;
  from: TicketState | null;
  to: TicketState;
  final: boolean;
  cause: string;
  actor: string;
  at: string;
  ticket: {
    stage: Stage | null;
    provider: { type: string; definition_code: string; instance_code: string };
    applicant: Person;
    fields?: Record<string, unknown>;
  };
}

/** The event's id: the same on every attempt and for every destination, for receivers to deduplicate on. */
export const eventId = (ticketId: string, seq: number) => `${ticketId}:event:${seq}`;

/**
 * The event as `destination` receives it. The same change gives the same bytes on every attempt. Fields can be
 * sensitive: only the pipeline's own events_url, whose team already receives them in stage calls, gets them.
 */
export function stateEventOf(change: StateChange, destination: Destination): StateEvent {
  return {
    id: eventId(change.ticketId, change.seq),
    type: 'ticket.state_changed',
    ticket_id: change.ticketId,
    pipeline: change.pipeline,
    seq: change.seq,
    from: change.from,
    to: change.to,
    final: finalStates.has(change.to),
    cause: change.cause,
    actor: change.actor,
    at: change.at.toISOString(),
    ticket: {
      stage: change.stage,
      provider: { type: change.provider.type, definition_code: change.provider.definitionCode, instance_code: change.provider.instanceCode },
      applicant: change.applicant,
      ...(destination === 'pipeline' ? { fields: change.fields ?? {} } : {}),
    },
  };
}

/** How failed deliveries are tried again (TICKETFLOW_EVENTS_RETRY_MS, …_MAX_DELAY_MS, …_GIVE_UP_MS). */
export interface RetryPolicy {
  /** The wait after the first failed attempt; each next one doubles. */
  retryMs: number;
  maxDelayMs: number;
  /** A delivery still failing this long after its first attempt is dead. */
  giveUpMs: number;
}

/**
 * After a failed attempt (the `attempts`-th, counted from 1, the first having gone out at `firstAttemptAt`): `dead`,
 * or the wait before the next one. A receiver's `Retry-After` (seconds) replaces the computed wait, within the
 * first wait and the longest.
 */
export function afterFailure(policy: RetryPolicy, attempts: number, firstAttemptAt: Date, now: Date, retryAfterSeconds?: number): { dead: true } | { dead: false; delayMs: number } {
  if (now.getTime() - firstAttemptAt.getTime() >= policy.giveUpMs) return { dead: true };
  const computed = policy.retryMs * 2 ** Math.min(attempts - 1, 40);
  // Never below the first wait: a receiver answering `Retry-After: 0` for ever must not make a busy loop.
  const asked = retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds >= 0 ? Math.max(retryAfterSeconds * 1000, policy.retryMs) : undefined;
  return { dead: false, delayMs: Math.min(policy.maxDelayMs, asked ?? computed) };
}

/** The host of a URL, the only part of it the console shows (a URL may carry a token in its path or query). */
export function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
