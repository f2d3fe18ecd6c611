import type { ApprovalClock } from './human-step.ts';

/** The ticket states (README, "Tickets"): the same identifiers in the API, metrics, logs and console. */
export const ticketStates = [
  'checking',
  'awaiting_check_callback',
  'in_approval',
  'executing',
  'awaiting_execute_callback',
  'completed',
  'rejected_by_check',
  'rejected_by_approver',
  'execute_failed',
  'rejected_by_operator',
  'canceled',
  'expired',
  'needs_operator',
] as const;
export type TicketState = (typeof ticketStates)[number];

export const finalStates: ReadonlySet<TicketState> = new Set(['completed', 'rejected_by_check', 'rejected_by_approver', 'execute_failed', 'rejected_by_operator', 'canceled', 'expired']);

export type Stage = 'check' | 'execute';

/** How an IM instance ended: approved, rejected, withdrawn, deleted, revoked after approval, or closed by the IM's timeout. */
export type ClosedStatus = 'APPROVED' | 'REJECTED' | 'CANCELED' | 'DELETED' | 'REVERTED' | 'TIMED_OUT';

export interface StageResult {
  result: boolean;
  msg?: string;
  error?: string;
}

export interface Person {
  user_id: string;
  open_id?: string;
  department_id?: string;
}

/** A ticket: one IM instance carried through check → approval → execute, pinned to one pipeline version. */
export interface Ticket {
  id: string;
  pipeline: { name: string; version: number };
  provider: 'lark' | 'dingtalk' | 'wecom';
  definitionCode: string;
  instanceCode: string;
  serialNumber?: string;
  state: TicketState;
  /** The stage in progress, awaited, or waiting for an operator. */
  stage?: Stage;
  /** Business call attempts made for the current stage. */
  attempts: number;
  deadlineAt?: string;
  applicant: Person;
  fields?: Record<string, unknown>;
  /** The assistant's task on each stage's node, once seen. */
  tasks: Partial<Record<Stage, string>>;
  /** Each stage's final business answer, to recognise a repeated callback. */
  results: Partial<Record<Stage, StageResult>>;
  /** How the IM instance ended, when its end closed the ticket. */
  closedBy?: ClosedStatus;
  /** The human step's clock (the pipeline's `approval` block): set when the ticket reaches human approval. */
  approval?: ApprovalClock;
  /** When the ticket was escalated (a flag, not a state: it stays escalated whatever happens next). */
  escalatedAt?: string;
}

export const isFinal = (t: Ticket) => finalStates.has(t.state);

