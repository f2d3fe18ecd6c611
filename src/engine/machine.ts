import { parseDuration } from '../pipeline/duration.ts';
import type { Pipeline, Stage as StageSpec } from '../pipeline/pipeline.generated.ts';
import type { Effect, TicketEvent } from './events.ts';
import { durationWords, planHumanStep, startClock, type HumanStepAction } from './human-step.ts';
import { isFinal, type Stage, type Ticket, type TicketState } from './ticket.ts';

/**
 * The ticket state machine: (ticket, event) → (ticket, effects). Pure: no I/O, no clock but `now`. Every event
 * that does not apply in the ticket's state leaves it unchanged (`changed: false`), which makes redelivered and
 * late events harmless.
 */
export interface Transition {
  ticket: Ticket;
  effects: Effect[];
  changed: boolean;
  /** Why an event did not apply (e.g. a callback for a stage the ticket is not waiting for). */
  ignored?: 'final' | 'not_waiting' | 'duplicate' | 'not_applicable';
}

export interface OpenTicketInput {
  id: string;
  pipeline: Pipeline;
  provider: Ticket['provider'];
  instanceCode: string;
  serialNumber?: string;
  applicant: Ticket['applicant'];
  fields: Record<string, unknown>;
  fieldProblems: string[];
  /** When it opens (a ticket opened straight into approval starts the human step's clock then). */
  now?: Date;
}

/** A new ticket: checking when the pipeline has a check stage, otherwise straight in approval. */
export function openTicket(input: OpenTicketInput): Ticket & { fieldProblems: string[] } {
  const hasCheck = Boolean(input.pipeline.stages.check);
  return {
    id: input.id,
    pipeline: { name: input.pipeline.metadata.name, version: input.pipeline.metadata.version },
    provider: input.provider,
    definitionCode: input.pipeline.provider.approval_code ?? input.pipeline.provider.process_code ?? input.pipeline.provider.template_id ?? '',
    instanceCode: input.instanceCode,
    serialNumber: input.serialNumber,
    state: hasCheck ? 'checking' : 'in_approval',
    stage: hasCheck ? 'check' : undefined,
    attempts: 0,
    applicant: input.applicant,
    fields: input.fields,
    fieldProblems: input.fieldProblems,
    tasks: {},
    results: {},
    ...(!hasCheck && input.pipeline.approval && input.now && !input.instanceCode.startsWith('pending:') ? { approval: startClock(input.now) } : {}),
  };
}

/**
 * A ticket born in a business system (`origin: api`): no IM instance yet. The check runs first; the instance is
 * created only when it passes (or at once without a check stage).
 */
export function openApiTicket(input: Omit<OpenTicketInput, 'instanceCode' | 'fieldProblems'>): { ticket: Ticket; effects: Effect[] } {
  const base = openTicket({ ...input, instanceCode: `pending:${input.id}`, fieldProblems: [] });
  if (input.pipeline.stages.check) return { ticket: { ...base, attempts: 1 }, effects: [{ type: 'call_business', stage: 'check', attempt: 1 }] };
  return { ticket: base, effects: [{ type: 'create_instance' }] };
}

const awaiting: Record<Stage, TicketState> = { check: 'awaiting_check_callback', execute: 'awaiting_execute_callback' };
const running: Record<Stage, TicketState> = { check: 'checking', execute: 'executing' };
const rejectedBy: Record<Stage, TicketState> = { check: 'rejected_by_check', execute: 'execute_failed' };

export function transition(ticket: Ticket & { fieldProblems?: string[] }, event: TicketEvent, pipeline: Pipeline, now: Date): Transition {
  let t = step(ticket, event, pipeline, now);
  // Reaching human approval starts the human step's clock (the pipeline's `approval` block) and its timer.
  if (t.changed && pipeline.approval && reachesApproval(ticket, t.ticket)) {
    const next = { ...t.ticket, approval: startClock(now) };
    t = { ...t, ticket: next, effects: [...t.effects, ...humanStepSchedule(next, pipeline, now)] };
  }
  // A ticket born in a business system reports its end to the notify URL.
  if (pipeline.origin === 'api' && t.changed && isFinal(t.ticket) && t.ticket.state !== ticket.state) return { ...t, effects: [...t.effects, { type: 'notify' }] };
  return t;
}

function step(ticket: Ticket & { fieldProblems?: string[] }, event: TicketEvent, pipeline: Pipeline, now: Date): Transition {
  const api = pipeline.origin === 'api';
  const same = (ignored: Transition['ignored']): Transition => ({ ticket, effects: [], changed: false, ignored });
  if (ticket.state === 'expired' && event.type === 'assistant_task_pending' && pipeline.stages[event.stage] && ticket.tasks[event.stage] !== event.taskId) {
    // An expired ticket whose IM instance could not be ended (a Lark definition that does not allow withdrawing)
    // may still reach one of our nodes: the assistant refuses it, so the instance ends there.
    return { ticket: { ...ticket, tasks: { ...ticket.tasks, [event.stage]: event.taskId } }, effects: [decide(event.stage, event.taskId, false, expiredComment(pipeline))], changed: true };
  }
  if (isFinal(ticket) && event.type !== 'instance_reopened') return same('final');
  const next: Ticket & { fieldProblems?: string[] } = { ...ticket, tasks: { ...ticket.tasks }, results: { ...ticket.results } };
  const done = (effects: Effect[]): Transition => ({ ticket: next, effects, changed: true });

  switch (event.type) {
    case 'assistant_task_pending': {
      const { stage, taskId } = event;
      if (!pipeline.stages[stage]) return same('not_applicable');
      if (ticket.tasks[stage] === taskId) return same('duplicate');
      next.tasks[stage] = taskId;
      const known = ticket.results[stage];
      if (known) {
        // The flow came back to our node (rolled back, or the task re-created): answer the new task the same way.
        return done([decide(stage, taskId, known.result, known.result ? known.msg : known.error)]);
      }
      if (stage === 'check') {
        if (ticket.state !== 'checking' || ticket.attempts > 0) return done([]);
        if (event.paused) {
          // Under maintenance: refused like a failed check, before the form is even looked at (a drifted form is
          // the likely cause of its problems), and the business is never called.
          next.state = 'rejected_by_check';
          next.stage = undefined;
          next.results.check = { result: false, error: MAINTENANCE_COMMENT };
          return done([decide('check', taskId, false, MAINTENANCE_COMMENT)]);
        }
        if (ticket.fieldProblems?.length) {
          next.state = 'rejected_by_check';
          next.stage = undefined;
          next.results.check = { result: false, error: fieldMessage(ticket.fieldProblems) };
          return done([decide('check', taskId, false, next.results.check.error)]);
        }
        next.attempts = 1;
        return done([{ type: 'call_business', stage: 'check', attempt: 1 }]);
      }
      if (ticket.state === 'executing' || ticket.state === 'awaiting_execute_callback' || (ticket.state === 'needs_operator' && ticket.stage === 'execute')) {
        return done([]);
      }
      if (ticket.state !== 'in_approval' && ticket.state !== 'checking') return done([]);
      next.state = 'executing';
      next.stage = 'execute';
      next.attempts = 1;
      return done([{ type: 'call_business', stage: 'execute', attempt: 1 }]);
    }

    case 'business_result': {
      const { stage } = event;
      if (!expects(ticket, stage, { acceptOperator: event.via === 'callback' })) return same('not_waiting');
      next.results[stage] = { result: event.result, msg: event.msg, error: event.error };
      next.deadlineAt = undefined;
      next.stage = undefined;
      const taskId = ticket.tasks[stage];
      if (event.result) {
        next.state = stage === 'check' ? 'in_approval' : 'completed';
        if (api && stage === 'check') return done([{ type: 'create_instance' }]);
        return done(taskId ? [decide(stage, taskId, true, event.msg)] : []);
      }
      next.state = rejectedBy[stage];
      return done(taskId ? [decide(stage, taskId, false, event.error)] : []);
    }

    case 'business_accepted': {
      const { stage } = event;
      if (ticket.state !== running[stage] || ticket.stage !== stage) return same('not_waiting');
      next.state = awaiting[stage];
      next.deadlineAt = event.deadlineAt;
      return done([{ type: 'schedule_deadline', stage, at: event.deadlineAt }]);
    }

    case 'business_unreachable': {
      const { stage, attempt } = event;
      if (ticket.state !== running[stage] || ticket.stage !== stage || attempt !== ticket.attempts) return same('not_waiting');
      const spec = pipeline.stages[stage]!;
      const max = spec.retry?.attempts ?? 5;
      if (attempt < max && !event.final) {
        next.attempts = attempt + 1;
        return done([{ type: 'call_business', stage, attempt: attempt + 1, delayMs: event.retryInMs ?? retryDelayMs(spec, attempt) }]);
      }
      next.state = 'needs_operator';
      const why = event.final ? `could not call the ${stage} service (${event.error})` : `could not reach the ${stage} service after ${attempt} attempts (last error: ${event.error})`;
      return done([{ type: 'comment', text: waitingForOperator(stage, why) }]);
    }

    case 'deadline_passed': {
      const { stage } = event;
      if (ticket.state !== awaiting[stage]) return same('not_waiting');
      const spec = pipeline.stages[stage]!;
      const why = `no answer from the ${stage} service within ${spec.deadline ?? 'its deadline'}`;
      next.deadlineAt = undefined;
      if (spec.on_deadline === 'reject') {
        next.state = rejectedBy[stage];
        next.stage = undefined;
        next.results[stage] = { result: false, error: `Rejected: ${why}.` };
        const taskId = ticket.tasks[stage];
        return done(taskId ? [decide(stage, taskId, false, next.results[stage]!.error)] : []);
      }
      next.state = 'needs_operator';
      return done([{ type: 'comment', text: waitingForOperator(stage, why) }]);
    }

    case 'instance_closed': {
      if (api && event.status === 'APPROVED' && pipeline.stages.execute && ticket.state === 'in_approval') {
        // Approved by the humans: now the business does the work (no assistant node with origin: api).
        next.state = 'executing';
        next.stage = 'execute';
        next.attempts = 1;
        return done([{ type: 'call_business', stage: 'execute', attempt: 1 }]);
      }
      // Approved again while execute runs (the reconciler's re-read, a WeCom callback for a comment or a payment after
      // approval): the work under way decides how the ticket ends.
      if (api && event.status === 'APPROVED' && pipeline.stages.execute && (ticket.stage === 'execute' || ticket.state === 'executing' || ticket.state === 'awaiting_execute_callback')) return same('duplicate');
      next.stage = undefined;
      next.deadlineAt = undefined;
      next.closedBy = event.status;
      if (event.status === 'APPROVED') next.state = 'completed';
      else if (event.status === 'REJECTED') next.state = 'rejected_by_approver';
      else next.state = 'canceled';
      return done([]);
    }

    case 'instance_reopened': {
      // Only an instance closed by the IM's timeout can come back; its ticket resumes where the flow is: the
      // assistant's tasks of unanswered stages are forgotten, so their recovered tasks drive the ticket again.
      if (ticket.state !== 'canceled' || ticket.closedBy !== 'TIMED_OUT') return same('not_applicable');
      next.closedBy = undefined;
      next.attempts = 0;
      const checked = !pipeline.stages.check || ticket.results.check?.result === true;
      next.state = checked ? 'in_approval' : 'checking';
      next.stage = checked ? undefined : 'check';
      for (const stage of ['check', 'execute'] as const) if (!ticket.results[stage]) delete next.tasks[stage];
      return done([]);
    }

    case 'instance_created': {
      if (!ticket.instanceCode.startsWith('pending:')) return same('duplicate');
      next.instanceCode = event.instanceCode;
      next.serialNumber = event.serialNumber;
      return done([]);
    }

    case 'operator_retry': {
      if (ticket.state !== 'needs_operator' || !ticket.stage) return same('not_waiting');
      next.state = running[ticket.stage];
      next.attempts = ticket.attempts + 1;
      next.deadlineAt = undefined;
      return done([{ type: 'call_business', stage: ticket.stage, attempt: next.attempts }]);
    }

    case 'operator_reject': {
      // An IM ticket's stage is ended in the IM, on the assistant's task. A ticket born in a business system has no
      // such task: the notify webhook tells the business, and a comment the requester, if the instance exists.
      const stage = ticket.stage;
      const taskId = stage ? ticket.tasks[stage] : undefined;
      if (!stage || (!taskId && !api)) return same('not_waiting');
      next.state = 'rejected_by_operator';
      next.stage = undefined;
      next.deadlineAt = undefined;
      next.results[stage] = { result: false, error: event.comment };
      if (taskId) return done([decide(stage, taskId, false, event.comment)]);
      return done(ticket.instanceCode.startsWith('pending:') ? [] : [{ type: 'comment', text: event.comment }]);
    }

    case 'approver_acted': {
      // The reminder clock starts over; escalation and expiry keep counting from the arrival in approval.
      if (ticket.state !== 'in_approval' || !ticket.approval || !pipeline.approval?.remind_after) return same('not_applicable');
      next.approval = { ...ticket.approval, actedAt: now.toISOString() };
      return done(humanStepSchedule(next, pipeline, now));
    }

    case 'approval_reminder':
    case 'approval_escalated':
    case 'approval_expired': {
      // Applied only when due at `now` (a timer that fired twice, or late after an approver acted, changes nothing).
      const action: HumanStepAction = event.type === 'approval_reminder' ? 'remind' : event.type === 'approval_escalated' ? 'escalate' : 'expire';
      if (ticket.state !== 'in_approval' || !ticket.approval) return same('not_waiting');
      if (!planHumanStep(pipeline.approval, ticket.approval, Boolean(ticket.escalatedAt), now).due.includes(action)) return same('not_applicable');
      if (action === 'expire') {
        next.state = 'expired';
        next.stage = undefined;
        next.deadlineAt = undefined;
        return done([{ type: 'expire_instance' }]);
      }
      if (action === 'escalate') {
        next.escalatedAt = now.toISOString();
        return done([{ type: 'escalation_alarm' }, ...humanStepSchedule(next, pipeline, now)]);
      }
      const reminder = ticket.approval.reminders + 1;
      next.approval = { ...ticket.approval, reminders: reminder, remindedAt: now.toISOString() };
      return done([{ type: 'remind_approvers', reminder }, ...humanStepSchedule(next, pipeline, now)]);
    }

    case 'operator_resolve': {
      const stage = ticket.stage;
      const taskId = stage ? ticket.tasks[stage] : undefined;
      if (ticket.state !== 'needs_operator' || !stage || (!taskId && !api)) return same('not_waiting');
      const msg = event.comment ?? `Resolved by an operator (${event.actor}).`;
      next.state = stage === 'check' ? 'in_approval' : 'completed';
      next.stage = undefined;
      next.results[stage] = { result: true, msg };
      if (taskId) return done([decide(stage, taskId, true, msg)]);
      return done(stage === 'check' ? [{ type: 'create_instance' }] : []);
    }
  }
}

/**
 * The ticket has just reached human approval with an IM instance to remind and end: from another state, or (a
 * ticket born in a business system) when its instance was created.
 */
function reachesApproval(before: Ticket, after: Ticket): boolean {
  if (after.state !== 'in_approval' || after.instanceCode.startsWith('pending:')) return false;
  return before.state !== 'in_approval' || before.instanceCode.startsWith('pending:');
}

/**
 * The human step's timer for a ticket in approval: at the next action, or now when one is due already (it then
 * runs at once). Replacing the ticket's timer (one job key per ticket) is how it is recomputed.
 */
export function humanStepSchedule(ticket: Ticket, pipeline: Pipeline, now: Date): Effect[] {
  if (ticket.state !== 'in_approval' || !ticket.approval || !pipeline.approval) return [];
  const plan = planHumanStep(pipeline.approval, ticket.approval, Boolean(ticket.escalatedAt), now);
  const at = plan.due.length ? now : plan.next?.at;
  return at ? [{ type: 'schedule_human_step', at: at.toISOString() }] : [];
}

/**
 * What the requester reads on the instance when it expires, in Chinese and English (the requester's language is not
 * known), and what the assistant answers at its node if the instance could not be ended.
 */
export function expiredComment(pipeline: Pipeline): string {
  const after = pipeline.approval?.expire_after ?? '';
  return (
    `该申请已过期：进入审批后 ${durationWords(after, 'zh')}内无人处理，Ticketflow 已结束它。如仍需要，请重新提交。\n` +
    `This request expired: nobody decided it within ${durationWords(after, 'en')} of it reaching approval, so Ticketflow ended it. Submit it again if you still need it.`
  );
}

/** Whether a business answer for `stage` is what the ticket is waiting for. */
export function expects(ticket: Ticket, stage: Stage, options: { acceptOperator?: boolean } = {}): boolean {
  if (ticket.stage !== stage) return false;
  if (ticket.state === running[stage] || ticket.state === awaiting[stage]) return true;
  // A late async answer still settles a stage that went to an operator.
  return Boolean(options.acceptOperator) && ticket.state === 'needs_operator';
}

export function retryDelayMs(spec: StageSpec, attempt: number): number {
  const initial = parseDuration(spec.retry?.initial_delay ?? '1s');
  const max = parseDuration(spec.retry?.max_delay ?? '5m');
  const multiplier = spec.retry?.multiplier ?? 2;
  return Math.min(max, Math.round(initial * multiplier ** (attempt - 1)));
}

function decide(stage: Stage, taskId: string, approve: boolean, comment: string | undefined): Effect {
  const fallback = approve ? `${stage === 'check' ? 'Check' : 'Execution'} passed.` : `${stage === 'check' ? 'Check' : 'Execution'} failed.`;
  return { type: 'decide_task', stage, taskId, action: approve ? 'approve' : 'reject', comment: comment || fallback };
}

/**
 * What the requester reads when a paused pipeline refuses a new ticket at the check node, in Chinese and English
 * (the requester's language is not known; the comment is the node's rejection reason in the IM).
 */
export const MAINTENANCE_COMMENT =
  '该审批流程正在维护：它在 IM 中的审批定义与 Ticketflow 的配置不一致，正在修复。本次申请未被处理，请稍后重新提交。\n' +
  'This approval process is under maintenance: its approval definition in the IM no longer matches Ticketflow and is being fixed. Your request was not processed; please submit it again later.';

function fieldMessage(problems: string[]): string {
  return `The request cannot be checked: ${problems.join('; ')}.`;
}

function waitingForOperator(stage: Stage, why: string): string {
  return `Ticketflow ${why}. Your request is waiting for an operator; nothing is lost and you do not need to submit it again.`;
}
