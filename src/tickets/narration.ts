import type { TicketEvent } from '../engine/events.ts';
import type { Alarm } from '../alarms/alarm.ts';
import type { Ticket } from '../engine/ticket.ts';

/** How the IM closed an instance, in words. */
const closed: Record<string, string> = {
  CANCELED: 'withdrawn by the requester',
  DELETED: 'deleted in the IM',
  REVERTED: 'revoked after approval',
  TIMED_OUT: "closed by the IM's timeout",
};

/** What a transition means to a person watching the log, from the state it left, the one it entered and its cause. */
export function transitionPhrase(before: Ticket, after: Ticket, event: TicketEvent): string {
  const byOperator = event.type === 'operator_resolve' || event.type === 'operator_retry' || event.type === 'operator_reject';
  switch (after.state) {
    case 'checking':
      return byOperator ? 'check retried by an operator' : 'checking';
    case 'awaiting_check_callback':
      return 'check accepted; waiting for its callback';
    case 'in_approval':
      if (event.type === 'instance_reopened') return 'instance recovered in the IM; in approval again';
      return byOperator ? 'check resolved by an operator; in approval' : 'check passed; in approval';
    case 'rejected_by_check':
      return 'check refused';
    case 'executing':
      return byOperator ? 'execute retried by an operator' : 'approved by the approvers; executing';
    case 'awaiting_execute_callback':
      return 'execute accepted; waiting for its callback';
    case 'completed':
      return byOperator ? 'resolved by an operator: completed' : 'executed: completed';
    case 'execute_failed':
      return 'execute failed';
    case 'rejected_by_approver':
      return 'rejected by an approver';
    case 'needs_operator': {
      const stage = before.stage ?? after.stage ?? 'its';
      if (event.type === 'deadline_passed') return `needs an operator: the ${stage} stage passed its deadline`;
      return `needs an operator: the ${stage} stage could not reach the business service${event.type === 'business_unreachable' ? ` (${event.error})` : ''}`;
    }
    case 'canceled':
      return `canceled: ${closed[after.closedBy ?? ''] ?? 'closed in the IM'}`;
    case 'expired':
      return 'expired: no decision from the approvers in time';
    default:
      return after.state.replace(/_/g, ' ');
  }
}

/** The log line of a ticket's transition: its id, what happened, the states, and where to see it. */
export function transitionLine(before: Ticket, after: Ticket, event: TicketEvent, consoleUrl: string): string {
  return `ticket ${after.id} ${transitionPhrase(before, after, event)} (${before.state} → ${after.state}): ${ticketUrl(consoleUrl, after.id)}`;
}

export function openedLine(ticket: Ticket, consoleUrl: string): string {
  return `ticket ${ticket.id} opened: ${ticket.pipeline.name} v${ticket.pipeline.version}, asked by ${ticket.applicant.user_id} (${ticket.state}): ${ticketUrl(consoleUrl, ticket.id)}`;
}

export const ticketUrl = (consoleUrl: string, id: string) => `${consoleUrl}/tickets/${encodeURIComponent(id)}`;

/**
 * The alarm of a ticket that entered `needs_operator`: its id, pipeline, stage and why, with its console page.
 * Nothing of the form or of the people in it leaves with the alarm.
 */
export function needsOperatorAlarm(before: Ticket, after: Ticket, event: TicketEvent, consoleUrl: string): Alarm {
  const url = ticketUrl(consoleUrl, after.id);
  return {
    kind: 'needs_operator',
    key: after.id,
    title: `Ticket ${after.id} needs an operator (${after.pipeline.name})`,
    text: [`Pipeline ${after.pipeline.name} v${after.pipeline.version}, ${after.stage ?? before.stage ?? 'no'} stage: ${transitionPhrase(before, after, event)}.`, 'Retry the stage, resolve it or reject the ticket in the console.'].join('\n'),
    link: url,
    pipeline: after.pipeline.name,
  };
}
