import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { openApiTicket, openTicket, retryDelayMs, transition } from './machine.ts';
import type { TicketEvent } from './events.ts';
import type { Ticket } from './ticket.ts';

const load = (name: string) => parse(readFileSync(new URL(`../../pipelines/${name}.yaml`, import.meta.url), 'utf8')) as Pipeline;
const admin = load('admin-permission'); // sync check, sync execute
const sql = load('sql-change'); // sync check, async execute, deadline → operator
const expense = load('travel-expense'); // async execute, deadline → reject
const now = new Date('2026-11-23T10:00:00Z');

function open(pipeline: Pipeline, fieldProblems: string[] = []) {
  return openTicket({ id: 't1', pipeline, provider: 'lark', instanceCode: 'I1', applicant: { user_id: 'alice' }, fields: { a: 1 }, fieldProblems });
}

/** Runs events in order; returns the final ticket and every effect. */
function run(pipeline: Pipeline, events: TicketEvent[], start: Ticket = open(pipeline)) {
  let ticket = start;
  const effects = [];
  for (const e of events) {
    const t = transition(ticket, e, pipeline, now);
    ticket = t.ticket;
    effects.push(...t.effects);
  }
  return { ticket, effects };
}

const checkTask: TicketEvent = { type: 'assistant_task_pending', stage: 'check', taskId: 'T-check' };
const execTask: TicketEvent = { type: 'assistant_task_pending', stage: 'execute', taskId: 'T-exec' };

describe('ticket state machine', () => {
  test('happy path, sync: check → approval → execute → completed, each task answered with the business message', () => {
    const { ticket, effects } = run(admin, [
      checkTask,
      { type: 'business_result', stage: 'check', result: true, msg: 'ok to grant', via: 'reply' },
      execTask,
      { type: 'business_result', stage: 'execute', result: true, msg: 'granted', via: 'reply' },
      { type: 'instance_closed', status: 'APPROVED' },
    ]);
    assert.equal(ticket.state, 'completed');
    assert.deepEqual(effects, [
      { type: 'call_business', stage: 'check', attempt: 1 },
      { type: 'decide_task', stage: 'check', taskId: 'T-check', action: 'approve', comment: 'ok to grant' },
      { type: 'call_business', stage: 'execute', attempt: 1 },
      { type: 'decide_task', stage: 'execute', taskId: 'T-exec', action: 'approve', comment: 'granted' },
    ]);
  });

  test('check rejects: final, the check task is rejected with the business error', () => {
    const { ticket, effects } = run(admin, [checkTask, { type: 'business_result', stage: 'check', result: false, error: 'already has the role', via: 'reply' }]);
    assert.equal(ticket.state, 'rejected_by_check');
    assert.deepEqual(effects.at(-1), { type: 'decide_task', stage: 'check', taskId: 'T-check', action: 'reject', comment: 'already has the role' });
  });

  test('a missing required field rejects at the check node naming the field, without calling the business', () => {
    const { ticket, effects } = run(admin, [checkTask], open(admin, ['"reason" (widget "申请理由") is required but empty']));
    assert.equal(ticket.state, 'rejected_by_check');
    assert.deepEqual(effects, [{ type: 'decide_task', stage: 'check', taskId: 'T-check', action: 'reject', comment: 'The request cannot be checked: "reason" (widget "申请理由") is required but empty.' }]);
  });

  test('the same task event twice is a no-op', () => {
    const t1 = transition(open(admin), checkTask, admin, now);
    const t2 = transition(t1.ticket, checkTask, admin, now);
    assert.equal(t2.changed, false);
    assert.equal(t2.ignored, 'duplicate');
    assert.deepEqual(t2.effects, []);
  });

  test('transport failures retry with the pipeline backoff, then go to needs_operator with a comment, task left pending', () => {
    const events: TicketEvent[] = [checkTask];
    for (let attempt = 1; attempt <= 5; attempt++) events.push({ type: 'business_unreachable', stage: 'check', attempt, error: 'HTTP 503' });
    const { ticket, effects } = run(admin, events);
    assert.equal(ticket.state, 'needs_operator');
    assert.equal(ticket.stage, 'check');
    assert.deepEqual(
      effects.filter((e) => e.type === 'call_business').map((e) => [e.attempt, (e as { delayMs?: number }).delayMs]),
      [[1, undefined], [2, 1000], [3, 2000], [4, 4000], [5, 8000]],
    );
    const last = effects.at(-1)!;
    assert.equal(last.type, 'comment');
    assert.match((last as { text: string }).text, /could not reach the check service after 5 attempts \(last error: HTTP 503\)\. Your request is waiting for an operator/);
    assert.ok(!effects.some((e) => e.type === 'decide_task'), 'the IM task stays pending');
  });

  test('a stale failure report (an attempt already superseded) changes nothing', () => {
    const { ticket } = run(admin, [checkTask, { type: 'business_unreachable', stage: 'check', attempt: 1, error: 'x' }]);
    const late = transition(ticket, { type: 'business_unreachable', stage: 'check', attempt: 1, error: 'x' }, admin, now);
    assert.equal(late.changed, false);
  });

  test('operator retry resumes the stage with the next attempt; a late async answer settles a needs_operator stage', () => {
    const failed = run(admin, [checkTask, ...[1, 2, 3, 4, 5].map((attempt) => ({ type: 'business_unreachable', stage: 'check', attempt, error: 'down' }) as TicketEvent)]).ticket;
    const retried = transition(failed, { type: 'operator_retry', actor: 'op' }, admin, now);
    assert.equal(retried.ticket.state, 'checking');
    assert.deepEqual(retried.effects, [{ type: 'call_business', stage: 'check', attempt: 6 }]);
    const late = transition(failed, { type: 'business_result', stage: 'check', result: true, via: 'callback' }, admin, now);
    assert.equal(late.ticket.state, 'in_approval');
  });

  test('async execute: accepted → awaiting callback with a deadline; the callback completes it', () => {
    const { ticket, effects } = run(sql, [
      checkTask,
      { type: 'business_result', stage: 'check', result: true, via: 'reply' },
      execTask,
      { type: 'business_accepted', stage: 'execute', deadlineAt: '2026-11-23T14:00:00.000Z' },
    ]);
    assert.equal(ticket.state, 'awaiting_execute_callback');
    assert.deepEqual(effects.at(-1), { type: 'schedule_deadline', stage: 'execute', at: '2026-11-23T14:00:00.000Z' });
    const cb = transition(ticket, { type: 'business_result', stage: 'execute', result: true, msg: 'done', via: 'callback' }, sql, now);
    assert.equal(cb.ticket.state, 'completed');
    const wrongStage = transition(ticket, { type: 'business_result', stage: 'check', result: true, via: 'callback' }, sql, now);
    assert.equal(wrongStage.ignored, 'not_waiting');
  });

  test('a callback that overtakes the "accepted" reply is applied; the late "accepted" is then ignored', () => {
    const calling = run(sql, [checkTask, { type: 'business_result', stage: 'check', result: true, via: 'reply' }, execTask]).ticket;
    const cb = transition(calling, { type: 'business_result', stage: 'execute', result: false, error: 'syntax error', via: 'callback' }, sql, now);
    assert.equal(cb.ticket.state, 'execute_failed');
    assert.equal(transition(cb.ticket, { type: 'business_accepted', stage: 'execute', deadlineAt: 'x' }, sql, now).changed, false);
  });

  test('deadline passing: operator outcome (sql-change) and reject outcome (travel-expense)', () => {
    const waiting = (p: Pipeline) => run(p, [checkTask, { type: 'business_result', stage: 'check', result: true, via: 'reply' }, execTask, { type: 'business_accepted', stage: 'execute', deadlineAt: 'x' }]).ticket;
    const op = transition(waiting(sql), { type: 'deadline_passed', stage: 'execute' }, sql, now);
    assert.equal(op.ticket.state, 'needs_operator');
    assert.match((op.effects[0] as { text: string }).text, /no answer from the execute service within 4h/);
    const rej = transition(waiting(expense), { type: 'deadline_passed', stage: 'execute' }, expense, now);
    assert.equal(rej.ticket.state, 'execute_failed');
    assert.deepEqual(rej.effects, [{ type: 'decide_task', stage: 'execute', taskId: 'T-exec', action: 'reject', comment: 'Rejected: no answer from the execute service within 2d.' }]);
  });

  test('a human rejects → rejected_by_approver; the requester recalls → canceled; a late answer then changes nothing', () => {
    const approved = run(admin, [checkTask, { type: 'business_result', stage: 'check', result: true, via: 'reply' }]).ticket;
    assert.equal(transition(approved, { type: 'instance_closed', status: 'REJECTED' }, admin, now).ticket.state, 'rejected_by_approver');
    const recalled = transition(run(admin, [checkTask]).ticket, { type: 'instance_closed', status: 'CANCELED' }, admin, now).ticket;
    assert.equal(recalled.state, 'canceled');
    const late = transition(recalled, { type: 'business_result', stage: 'check', result: true, via: 'reply' }, admin, now);
    assert.deepEqual([late.changed, late.ignored], [false, 'final']);
  });

  test('an operator rejection is its own final state, on either stage: the assistant task is rejected with the comment', () => {
    const down = (stage: 'check' | 'execute') => [1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => ({ type: 'business_unreachable', stage, attempt, error: 'down' }) as TicketEvent);
    const atCheck = run(admin, [checkTask, ...down('check')]).ticket;
    const rejected = transition(atCheck, { type: 'operator_reject', actor: 'op', comment: 'ask again next week' }, admin, now);
    assert.equal(rejected.ticket.state, 'rejected_by_operator');
    assert.deepEqual(rejected.effects, [{ type: 'decide_task', stage: 'check', taskId: 'T-check', action: 'reject', comment: 'ask again next week' }]);
    assert.equal(transition(rejected.ticket, { type: 'operator_retry', actor: 'op' }, admin, now).ignored, 'final');
    const atExecute = run(admin, [checkTask, { type: 'business_result', stage: 'check', result: true, via: 'reply' }, execTask, ...down('execute')]).ticket;
    assert.equal(atExecute.state, 'needs_operator');
    assert.equal(transition(atExecute, { type: 'operator_reject', actor: 'op', comment: 'no' }, admin, now).ticket.state, 'rejected_by_operator');
    const inApproval = run(admin, [checkTask, { type: 'business_result', stage: 'check', result: true, via: 'reply' }]).ticket;
    assert.equal(transition(inApproval, { type: 'operator_reject', actor: 'op', comment: 'no' }, admin, now).ignored, 'not_waiting', 'humans decide in approval');
  });

  test('backoff grows by the multiplier and stops at max_delay', () => {
    const spec = expense.stages.execute!; // 5s, ×3, max 30m
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((a) => retryDelayMs(spec, a)), [5000, 15000, 45000, 135000, 405000, 1215000, 1800000, 1800000]);
  });
});

describe('tickets born in a business system (origin: api)', () => {
  const api: Pipeline = { ...admin, origin: 'api', notify_url: 'https://admin.example.com/notify', stages: { check: { endpoint: 'https://x.example.com/c', mode: 'sync' }, execute: { endpoint: 'https://x.example.com/e', mode: 'sync' } } };
  const start = () => openApiTicketFor(api);

  test('check first; a pass creates the IM instance; human approval triggers execute; the end is notified', () => {
    const { ticket, effects } = start();
    assert.deepEqual([ticket.state, ticket.instanceCode.startsWith('pending:')], ['checking', true]);
    assert.deepEqual(effects, [{ type: 'call_business', stage: 'check', attempt: 1 }]);
    const passed = transition(ticket, { type: 'business_result', stage: 'check', result: true, via: 'reply' }, api, now);
    assert.deepEqual([passed.ticket.state, passed.effects], ['in_approval', [{ type: 'create_instance' }]]);
    const created = transition(passed.ticket, { type: 'instance_created', instanceCode: 'INST-9' }, api, now);
    assert.equal(created.ticket.instanceCode, 'INST-9');
    const approved = transition(created.ticket, { type: 'instance_closed', status: 'APPROVED' }, api, now);
    assert.deepEqual([approved.ticket.state, approved.effects], ['executing', [{ type: 'call_business', stage: 'execute', attempt: 1 }]]);
    const done = transition(approved.ticket, { type: 'business_result', stage: 'execute', result: true, via: 'reply' }, api, now);
    assert.deepEqual([done.ticket.state, done.effects], ['completed', [{ type: 'notify' }]]);
  });

  test('a check rejection is final and notified, and nothing is created in the IM', () => {
    const t = transition(start().ticket, { type: 'business_result', stage: 'check', result: false, error: 'no', via: 'reply' }, api, now);
    assert.deepEqual([t.ticket.state, t.effects], ['rejected_by_check', [{ type: 'notify' }]]);
  });

  test('an operator rejection is notified as rejected_by_operator, without an IM task to reject: a comment once the instance exists', () => {
    const stuck = (stage: 'check' | 'execute', from: Ticket) => [1, 2, 3, 4, 5].reduce((t, attempt) => transition(t, { type: 'business_unreachable', stage, attempt, error: 'down' }, api, now).ticket, from);
    const atCheck = stuck('check', start().ticket);
    assert.equal(atCheck.state, 'needs_operator');
    const rejected = transition(atCheck, { type: 'operator_reject', actor: 'op', comment: 'not this quarter' }, api, now);
    assert.deepEqual([rejected.ticket.state, rejected.ticket.results.check, rejected.effects], ['rejected_by_operator', { result: false, error: 'not this quarter' }, [{ type: 'notify' }]]);

    const passed = transition(start().ticket, { type: 'business_result', stage: 'check', result: true, via: 'reply' }, api, now).ticket;
    const created = transition(passed, { type: 'instance_created', instanceCode: 'INST-9' }, api, now).ticket;
    const executing = transition(created, { type: 'instance_closed', status: 'APPROVED' }, api, now).ticket;
    const atExecute = stuck('execute', executing);
    const t = transition(atExecute, { type: 'operator_reject', actor: 'op', comment: 'done by hand instead' }, api, now);
    assert.deepEqual([t.ticket.state, t.effects], ['rejected_by_operator', [{ type: 'comment', text: 'done by hand instead' }, { type: 'notify' }]]);
  });

  test('an operator resolving a stuck check creates the IM instance; a stuck execute completes and is notified', () => {
    const stuck = (stage: 'check' | 'execute', from: Ticket) => [1, 2, 3, 4, 5].reduce((t, attempt) => transition(t, { type: 'business_unreachable', stage, attempt, error: 'down' }, api, now).ticket, from);
    const resolved = transition(stuck('check', start().ticket), { type: 'operator_resolve', actor: 'op' }, api, now);
    assert.deepEqual([resolved.ticket.state, resolved.effects], ['in_approval', [{ type: 'create_instance' }]]);
    const created = transition(resolved.ticket, { type: 'instance_created', instanceCode: 'INST-9' }, api, now).ticket;
    const executing = transition(created, { type: 'instance_closed', status: 'APPROVED' }, api, now).ticket;
    const done = transition(stuck('execute', executing), { type: 'operator_resolve', actor: 'op' }, api, now);
    assert.deepEqual([done.ticket.state, done.effects], ['completed', [{ type: 'notify' }]]);
  });

  test('a human rejection is notified', () => {
    const passed = transition(start().ticket, { type: 'business_result', stage: 'check', result: true, via: 'reply' }, api, now).ticket;
    const t = transition(passed, { type: 'instance_closed', status: 'REJECTED' }, api, now);
    assert.deepEqual([t.ticket.state, t.effects], ['rejected_by_approver', [{ type: 'notify' }]]);
  });
});

function openApiTicketFor(pipeline: Pipeline) {
  return openApiTicket({ id: 'api-1', pipeline, provider: 'lark', applicant: { user_id: 'alice' }, fields: {} });
}
