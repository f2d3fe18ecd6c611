import type { ClosedStatus, Stage } from './ticket.ts';

export type { ClosedStatus };

/** What can happen to a ticket. Every one is a fact already established (by the IM, the business, a clock, an operator). */

export type TicketEvent =
  /**
   * `paused`: at the check node, the pipeline is paused for maintenance (its IM definition drifted and it says
   * `on_drift: pause`, src/doctor/drift.ts): a new ticket is refused there without calling the business.
   */
  | { type: 'assistant_task_pending'; stage: Stage; taskId: string; paused?: boolean }
  | { type: 'instance_closed'; status: ClosedStatus }
  /** An instance the IM closed by its timeout was recovered by hand: it is in approval again. */
  | { type: 'instance_reopened' }
  | { type: 'business_result'; stage: Stage; result: boolean; msg?: string; error?: string; via: 'reply' | 'callback' }
  | { type: 'business_accepted'; stage: Stage; deadlineAt: string }
  | { type: 'business_unreachable'; stage: Stage; attempt: number; error: string; retryInMs?: number; final?: boolean }
  | { type: 'deadline_passed'; stage: Stage }
  | { type: 'operator_retry'; actor: string }
  | { type: 'operator_reject'; actor: string; comment: string }
  | { type: 'operator_resolve'; actor: string; comment?: string }
  | { type: 'instance_created'; instanceCode: string; serialNumber?: string }
  /**
   * The human step (the pipeline's `approval` block, src/engine/human-step.ts), each applied only when due at the
   * transition's `now`: a human approver acted in the IM (the reminder clock starts over), a reminder is due, the
   * ticket is to be escalated, or it expired.
   */
  | { type: 'approver_acted' }
  | { type: 'approval_reminder' }
  | { type: 'approval_escalated' }
  | { type: 'approval_expired' };

/** What a transition asks the outside world to do; each becomes a durable job in the same transaction. */
export type Effect =
  | { type: 'call_business'; stage: Stage; attempt: number; delayMs?: number }
  | { type: 'decide_task'; stage: Stage; taskId: string; action: 'approve' | 'reject'; comment: string }
  | { type: 'comment'; text: string }
  | { type: 'schedule_deadline'; stage: Stage; at: string }
  | { type: 'create_instance' }
  | { type: 'notify' }
  /** The human step's timer: one per ticket, replaced whenever its clock changes (graphile-worker job_key). */
  | { type: 'schedule_human_step'; at: string }
  /** Remind the approvers the IM shows as pending; `reminder` counts from 1. */
  | { type: 'remind_approvers'; reminder: number }
  /** Tell the alarm channels that the ticket was escalated. */
  | { type: 'escalation_alarm' }
  /** Tell the requester why and end the IM instance (Lark: withdraw as the originator; DingTalk: terminate). */
  | { type: 'expire_instance' };
