import type { Effect } from '../engine/events.ts';
import type { Ticket } from '../engine/ticket.ts';
import type { Job } from '../effects/tasks.ts';
import type { Destination } from '../state-events/event.ts';

/** The job that carries out what a transition asked for. */
export function jobFor(ticket: Ticket, effect: Effect): Job {
  switch (effect.type) {
    case 'call_business':
      return { task: 'call_business', payload: { ticket_id: ticket.id, stage: effect.stage, attempt: effect.attempt }, key: `call:${ticket.id}:${effect.stage}:${effect.attempt}`, runAt: effect.delayMs ? new Date(Date.now() + effect.delayMs) : undefined };
    case 'decide_task':
      return { task: 'decide_task', payload: { ticket_id: ticket.id, stage: effect.stage, task_id: effect.taskId, action: effect.action, comment: effect.comment, attempt: 1 }, key: `decide:${ticket.id}:${effect.taskId}:1` };
    case 'comment':
      return { task: 'comment', payload: { ticket_id: ticket.id, text: effect.text, attempt: 1 } };
    case 'schedule_deadline':
      return { task: 'stage_deadline', payload: { ticket_id: ticket.id, stage: effect.stage }, key: `deadline:${ticket.id}:${effect.stage}`, runAt: new Date(effect.at) };
    case 'create_instance':
      return { task: 'create_instance', payload: { ticket_id: ticket.id }, key: `create:${ticket.id}` };
    case 'notify':
      return { task: 'notify', payload: { ticket_id: ticket.id, attempt: 1 }, key: `notify:${ticket.id}` };
    case 'schedule_human_step':
      // One timer per ticket: a new one replaces the waiting one (job_key, mode replace), which is how it is recomputed.
      return { task: 'human_step', payload: { ticket_id: ticket.id }, key: `human-step:${ticket.id}`, runAt: new Date(effect.at), keyMode: 'replace' };
    case 'remind_approvers':
      return { task: 'remind_approvers', payload: { ticket_id: ticket.id, reminder: effect.reminder, attempt: 1 }, key: `remind:${ticket.id}:${effect.reminder}` };
    case 'escalation_alarm':
      return { task: 'escalation_alarm', payload: { ticket_id: ticket.id }, key: `escalation:${ticket.id}` };
    case 'expire_instance':
      return { task: 'expire_instance', payload: { ticket_id: ticket.id, attempt: 1 }, key: `expire:${ticket.id}` };
  }
}

/** The runs that deliver a ticket's state-change events, one per destination: each sends what is due, in order. */
export function deliveryJobs(ticketId: string, destinations: readonly Destination[]): Job[] {
  return destinations.map((destination) => ({ task: 'deliver_state_events', payload: { ticket_id: ticketId, destination } }));
}
