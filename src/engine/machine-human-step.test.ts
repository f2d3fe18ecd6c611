import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import type { Effect, TicketEvent } from './events.ts';
import { expiredComment, openApiTicket, openTicket, transition } from './machine.ts';
import type { Ticket } from './ticket.ts';

const base = parse(readFileSync(new URL('../../pipelines/admin-permission.yaml', import.meta.url), 'utf8')) as Pipeline;
const admin: Pipeline = { ...base, approval: { remind_after: '4h', remind_every: '1d', escalate_after: '2d', expire_after: '7d' } };
const plain: Pipeline = { ...base };
const api: Pipeline = { ...admin, origin: 'api', notify_url: 'https://admin.example.com/notify', stages: { check: { endpoint: 'https://admin.example.com/check', mode: 'sync' }, execute: { endpoint: 'https://admin.example.com/execute', mode: 'sync' } } };
const T0 = Date.parse('2026-11-23T10:00:00Z');
const H = 3_600_000;
const D = 24 * H;
const at = (ms: number) => new Date(T0 + ms);

const checkTask: TicketEvent = { type: 'assistant_task_pending', stage: 'check', taskId: 'T-check' };
const checkPassed: TicketEvent = { type: 'business_result', stage: 'check', result: true, msg: 'ok', via: 'reply' };

/** Applies events, each at its time; returns the ticket and every effect with the time it was asked for. */
function run(pipeline: Pipeline, steps: Array<[number, TicketEvent]>, start?: Ticket) {
  let ticket: Ticket = start ?? openTicket({ id: 't1', pipeline, provider: 'lark', instanceCode: 'I1', applicant: { user_id: 'alice' }, fields: {}, fieldProblems: [] });
  const effects: Array<[number, Effect]> = [];
  const changed: boolean[] = [];
  for (const [ms, e] of steps) {
    const t = transition(ticket, e, pipeline, at(ms));
    ticket = t.ticket;
    changed.push(t.changed);
    effects.push(...t.effects.map((x) => [ms, x] as [number, Effect]));
  }
  return { ticket, effects, changed };
}
const timers = (effects: Array<[number, Effect]>) => effects.filter(([, e]) => e.type === 'schedule_human_step').map(([, e]) => Date.parse((e as { at: string }).at) - T0);

describe('the state machine: the human step', () => {
  test('reaching approval starts the clock and sets the timer at the first reminder', () => {
    const { ticket, effects } = run(admin, [
      [0, checkTask],
      [1000, checkPassed],
    ]);
    assert.equal(ticket.state, 'in_approval');
    assert.deepEqual(ticket.approval, { since: at(1000).toISOString(), reminders: 0 });
    assert.deepEqual(timers(effects), [1000 + 4 * H]);
  });

  test('a pipeline without an approval block has no clock and no timer', () => {
    const { ticket, effects } = run(plain, [
      [0, checkTask],
      [1000, checkPassed],
    ]);
    assert.equal(ticket.approval, undefined);
    assert.deepEqual(timers(effects), []);
    assert.equal(transition(ticket, { type: 'approval_expired' }, plain, at(30 * D)).changed, false);
  });

  test('a reminder applies only when due; it counts, and the timer moves to the next action', () => {
    const { ticket, effects, changed } = run(admin, [
      [0, checkTask],
      [0, checkPassed],
      [4 * H - 1, { type: 'approval_reminder' }],
      [4 * H, { type: 'approval_reminder' }],
      [4 * H + 1, { type: 'approval_reminder' }],
    ]);
    assert.deepEqual(changed, [true, true, false, true, false]);
    assert.deepEqual(ticket.approval, { since: at(0).toISOString(), reminders: 1, remindedAt: at(4 * H).toISOString() });
    assert.deepEqual(
      effects.filter(([, e]) => e.type === 'remind_approvers').map(([, e]) => e),
      [{ type: 'remind_approvers', reminder: 1 }],
    );
    assert.deepEqual(timers(effects), [4 * H, 4 * H + D]);
  });

  test('an approver acting starts the reminder clock over, and the timer with it', () => {
    const { ticket, effects, changed } = run(admin, [
      [0, checkTask],
      [0, checkPassed],
      [3 * H, { type: 'approver_acted' }],
      [4 * H, { type: 'approval_reminder' }],
    ]);
    assert.deepEqual(changed, [true, true, true, false], 'no reminder right after an act');
    assert.equal(ticket.approval!.actedAt, at(3 * H).toISOString());
    assert.deepEqual(timers(effects), [4 * H, 7 * H]);
    // Without reminders in the pipeline an act changes nothing (no write, no timer).
    assert.equal(transition(ticket, { type: 'approver_acted' }, { ...admin, approval: { expire_after: '7d' } }, at(5 * H)).changed, false);
  });

  test('escalation sets the flag once, asks for the alarm, and keeps the ticket in approval', () => {
    const { ticket, effects, changed } = run(admin, [
      [0, checkTask],
      [0, checkPassed],
      [2 * D, { type: 'approval_escalated' }],
      [2 * D + 1, { type: 'approval_escalated' }],
    ]);
    assert.deepEqual(changed, [true, true, true, false]);
    assert.equal(ticket.state, 'in_approval');
    assert.equal(ticket.escalatedAt, at(2 * D).toISOString());
    assert.deepEqual(
      effects.filter(([, e]) => e.type === 'escalation_alarm').map(([ms]) => ms),
      [2 * D],
    );
  });

  test('expiry ends the ticket in its own state and asks for the comment and the end of the instance', () => {
    const { ticket, effects, changed } = run(admin, [
      [0, checkTask],
      [0, checkPassed],
      [7 * D - 1, { type: 'approval_expired' }],
      [7 * D, { type: 'approval_expired' }],
    ]);
    assert.deepEqual(changed, [true, true, false, true]);
    assert.equal(ticket.state, 'expired');
    assert.deepEqual(effects.at(-1)![1], { type: 'expire_instance' });
    // Final: nothing moves it any more, not even a late human step.
    for (const e of [{ type: 'approval_reminder' }, { type: 'approver_acted' }, { type: 'instance_closed', status: 'CANCELED' }] as TicketEvent[]) {
      assert.equal(transition(ticket, e, admin, at(8 * D)).changed, false, e.type);
    }
  });

  test('an expired ticket whose instance went on anyway is refused at the next node, once', () => {
    const { ticket } = run(admin, [
      [0, checkTask],
      [0, checkPassed],
      [7 * D, { type: 'approval_expired' }],
    ]);
    const execTask: TicketEvent = { type: 'assistant_task_pending', stage: 'execute', taskId: 'T-exec' };
    const t = transition(ticket, execTask, admin, at(8 * D));
    assert.equal(t.ticket.state, 'expired');
    assert.deepEqual(t.effects, [{ type: 'decide_task', stage: 'execute', taskId: 'T-exec', action: 'reject', comment: expiredComment(admin) }]);
    assert.equal(transition(t.ticket, execTask, admin, at(8 * D)).changed, false, 'the same task twice is answered once');
    assert.match(expiredComment(admin), /7 天/);
    assert.match(expiredComment(admin), /within 7 days/);
  });

  test('a ticket born in a business system: the clock starts when its instance exists, and its end is notified', () => {
    const opened = openApiTicket({ id: 't2', pipeline: api, provider: 'lark', applicant: { user_id: 'alice' }, fields: {} });
    const { ticket, effects } = run(
      api,
      [
        [0, checkPassed],
        [5000, { type: 'instance_created', instanceCode: 'I2' }],
        [5000 + 7 * D, { type: 'approval_expired' }],
      ],
      opened.ticket,
    );
    assert.equal(ticket.approval!.since, at(5000).toISOString());
    assert.deepEqual(timers(effects), [5000 + 4 * H]);
    assert.equal(ticket.state, 'expired');
    assert.deepEqual(
      effects.filter(([ms]) => ms === 5000 + 7 * D).map(([, e]) => e.type),
      ['expire_instance', 'notify'],
    );
  });

  test('an instance recovered after the IM timeout starts a new clock', () => {
    const { ticket, effects } = run(admin, [
      [0, checkTask],
      [0, checkPassed],
      [H, { type: 'instance_closed', status: 'TIMED_OUT' }],
      [2 * H, { type: 'instance_reopened' }],
    ]);
    assert.equal(ticket.state, 'in_approval');
    assert.equal(ticket.approval!.since, at(2 * H).toISOString());
    assert.deepEqual(timers(effects), [4 * H, 6 * H]);
  });

  test('a pipeline without a check stage opens its tickets in approval with a started clock', () => {
    const noCheck: Pipeline = { ...admin, stages: { execute: admin.stages.execute } };
    const t = openTicket({ id: 't3', pipeline: noCheck, provider: 'lark', instanceCode: 'I3', applicant: { user_id: 'alice' }, fields: {}, fieldProblems: [], now: at(0) });
    assert.equal(t.state, 'in_approval');
    assert.deepEqual(t.approval, { since: at(0).toISOString(), reminders: 0 });
  });
});
