import { noAlarms } from '../../alarms/alarm.ts';
import type { TicketEvent } from '../../engine/events.ts';
import { durationWords, planHumanStep, type HumanStepAction } from '../../engine/human-step.ts';
import type { TaskPayloads } from '../../effects/tasks.ts';
import { jobFor } from '../../tickets/jobs.ts';
import { ticketUrl } from '../../tickets/narration.ts';
import type { JobDeps } from '../deps.ts';
import { imName } from '../../providers/im-name.ts';

const events: Record<HumanStepAction, TicketEvent> = {
  remind: { type: 'approval_reminder' },
  escalate: { type: 'approval_escalated' },
  expire: { type: 'approval_expired' },
};

/**
 * The human step's timer (one queue job per ticket, key `human-step:<ticket>`): carries out what is due through the
 * ticket door, under the ticket's lock, deciding again from the ticket as locked — so a timer that fires twice, on
 * two replicas, or after an approver acted, does nothing more. Each action's transition schedules the next timer
 * in its own commit. A timer that fires early (its ticket's clock moved since it was set) waits for the next action.
 * A ticket no longer in approval ends its timer here.
 */
export async function humanStepTask(deps: JobDeps, p: TaskPayloads['human_step']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  if (!ticket || ticket.state !== 'in_approval' || !ticket.approval) return;
  const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
  const plan = planHumanStep(pipeline.approval, ticket.approval, Boolean(ticket.escalatedAt), new Date());
  if (plan.due.length === 0) {
    // The queue starts a job on the database's clock; the plan is this replica's. Should the database's run ahead,
    // the timer is set that much later: at the plain time it would be started again at once, and again, until this
    // replica's clock caught up.
    if (plan.next) await deps.outbox.later(jobFor(ticket, { type: 'schedule_human_step', at: new Date(plan.next.at.getTime() + (await databaseAheadMs(deps))).toISOString() }));
    return;
  }
  await deps.tickets.applyLocked(ticket.id, 'ticketflow', async (locked) => {
    if (locked.state !== 'in_approval' || !locked.approval) return undefined;
    const due = planHumanStep(pipeline.approval, locked.approval, Boolean(locked.escalatedAt), new Date()).due;
    return due.length ? { pipeline, events: due.map((a) => events[a]) } : undefined;
  });
}

/** How far the database's clock is ahead of this replica's (0 when it is not, or cannot be read). */
async function databaseAheadMs(deps: JobDeps): Promise<number> {
  const before = Date.now();
  const { rows } = await deps.pool.query<{ now: Date }>('SELECT clock_timestamp() AS now').catch(() => ({ rows: [] as Array<{ now: Date }> }));
  const db = rows[0]?.now;
  return db ? Math.max(0, Math.round(db.getTime() - (before + Date.now()) / 2)) : 0;
}

/**
 * An escalated ticket, told to the alarm channels (kind `escalation`, one per ticket) with its console link, for the
 * operators and the pipeline's owner. Runs as an effect of the escalation's commit, so a crash cannot lose it. Like
 * every alarm, nothing of the form or of the people in it (the requester's id included) leaves with it.
 */
export async function escalationAlarmTask(deps: JobDeps, p: TaskPayloads['escalation_alarm']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  if (!ticket?.escalatedAt) return;
  const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version).catch(() => undefined);
  const after = pipeline?.approval?.escalate_after;
  const im = imName(ticket.provider);
  (deps.alarms ?? noAlarms).raise({
    kind: 'escalation',
    key: ticket.id,
    title: `Ticket ${ticket.id} (${ticket.pipeline.name}) is escalated: no decision from its approvers${after ? ` within ${durationWords(after, 'en')}` : ''}`,
    text: [
      `Pipeline: ${ticket.pipeline.name} v${ticket.pipeline.version}${pipeline ? ` (owner: ${pipeline.metadata.owner})` : ''}`,
      `Waiting for approval in ${im} since ${ticket.approval?.since ?? 'unknown'}; state now: ${ticket.state}`,
      `Instance: ${ticket.instanceCode}`,
      ...(pipeline?.approval?.expire_after ? [`It expires ${durationWords(pipeline.approval.expire_after, 'en')} after it reached approval.`] : []),
    ].join('\n'),
    link: ticketUrl(deps.config.publicUrl, ticket.id),
    pipeline: ticket.pipeline.name,
  });
}
