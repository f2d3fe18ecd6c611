import type { Pool, PoolClient } from 'pg';
import type { Ticket } from '../../engine/ticket.ts';
import type { JobSpec } from './add-job.ts';
import type { PendingEffect } from './insert-pending-effects.ts';
import { data } from './ticket-row.ts';

export interface TransitionWrite<J extends JobSpec = JobSpec> {
  /** The ticket as read: the write succeeds only if it is still at this version. */
  ticketId: string;
  version: number;
  after: Ticket & { fieldProblems?: string[] };
  audit: { actor: string; event: string; from: string; to: string; detail: unknown };
  /** Run by `claimer` right after the commit. */
  pending: J[];
  claimer?: string;
  /** Added to the job queue. */
  queued: J[];
  /** The IM event this transition consumes, marked processed with it. */
  processedEvent?: { provider: string; eventId: string };
  /** A change of state: the destinations its event is delivered to (one `event_deliveries` row each, by the audit entry). */
  eventDestinations?: readonly string[];
}

/**
 * Writes a transition in one statement: the ticket (if still at the version it was read at), its audit entry, its
 * effects, the consumed event and the deliveries of its state-change event, all or nothing. `written: false` means
 * another writer got there first.
 */
export async function commitTransition<J extends JobSpec>(db: Pool | PoolClient, w: TransitionWrite<J>): Promise<{ written: boolean; effects: PendingEffect<J>[] }> {
  const t = w.after;
  const { rows } = await db.query<{ updated: number; effect_ids: string[] }>({
    name: 'commit-transition',
    text: `WITH u AS (
       UPDATE tickets SET state = $3, stage = $4, attempts = $5, data = $6, deadline_at = $7, instance_code = $8, serial_number = $9,
                          escalated_at = $28, updated_at = now(), version = version + 1
       WHERE id = $1 AND version = $2 RETURNING id),
     a AS (
       INSERT INTO ticket_audit (ticket_id, actor, event, from_state, to_state, detail) SELECT id, $10, $11, $12, $13, $14 FROM u RETURNING id),
     v AS (
       INSERT INTO event_deliveries (ticket_id, destination, audit_id, stage, instance_code) SELECT $1, x.d, a.id, $4, $8 FROM a, unnest($27::text[]) AS x(d)),
     e AS (
       INSERT INTO pending_effects (task, payload, job_key, max_attempts, claimed_by)
       SELECT x.task, x.payload, x.job_key, x.max_attempts, $15 FROM u, unnest($16::text[], $17::jsonb[], $18::text[], $19::int[]) WITH ORDINALITY AS x(task, payload, job_key, max_attempts, n)
       ORDER BY x.n
       RETURNING id),
     q AS (
       SELECT graphile_worker.add_job(x.task, x.payload::json, run_at => x.run_at, job_key => x.job_key, max_attempts => x.max_attempts)
       FROM u, unnest($20::text[], $21::jsonb[], $22::timestamptz[], $23::text[], $24::int[]) AS x(task, payload, run_at, job_key, max_attempts)),
     p AS (
       UPDATE inbound_events SET processed_at = now() WHERE provider = $25 AND event_id = $26 AND EXISTS (SELECT 1 FROM u))
     SELECT (SELECT count(*) FROM u)::int AS updated,
            (SELECT coalesce(json_agg(id::text ORDER BY id), '[]') FROM e) AS effect_ids,
            (SELECT count(*) FROM q)::int AS queued`,
    values: [
      w.ticketId, w.version, t.state, t.stage ?? null, t.attempts, data(t), t.deadlineAt ?? null, t.instanceCode, t.serialNumber ?? null,
      w.audit.actor, w.audit.event, w.audit.from, w.audit.to, JSON.stringify(w.audit.detail),
      w.claimer ?? null, w.pending.map((j) => j.task), w.pending.map((j) => JSON.stringify(j.payload)), w.pending.map((j) => j.key ?? null), w.pending.map((j) => j.maxAttempts ?? 25),
      w.queued.map((j) => j.task), w.queued.map((j) => JSON.stringify(j.payload)), w.queued.map((j) => j.runAt?.toISOString() ?? new Date().toISOString()), w.queued.map((j) => j.key ?? null), w.queued.map((j) => j.maxAttempts ?? 25),
      w.processedEvent?.provider ?? null, w.processedEvent?.eventId ?? null,
      w.eventDestinations ?? [],
      t.escalatedAt ?? null,
    ],
  });
  const row = rows[0]!;
  return { written: row.updated === 1, effects: row.effect_ids.map((id, i) => ({ id, job: w.pending[i]! })) };
}
