import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TicketEvent } from '../engine/events.ts';
import type { Ticket, TicketState } from '../engine/ticket.ts';
import { openedLine, transitionLine } from './narration.ts';

const base: Ticket = { id: 'tk_1', pipeline: { name: 'admin-permission', version: 2 }, provider: 'lark', definitionCode: 'A', instanceCode: 'I', state: 'checking', stage: 'check', attempts: 1, applicant: { user_id: 'bob' }, tasks: {}, results: {} };
const at = (state: TicketState, more: Partial<Ticket> = {}): Ticket => ({ ...base, state, ...more });
const line = (from: Ticket, to: Ticket, event: TicketEvent) => transitionLine(from, to, event, 'http://localhost:3000');

test('each step of a ticket is one line with its id, what happened, the states and its console URL', () => {
  assert.equal(openedLine(base, 'http://localhost:3000'), 'ticket tk_1 opened: admin-permission v2, asked by bob (checking): http://localhost:3000/tickets/tk_1');
  const result = (stage: 'check' | 'execute', ok: boolean): TicketEvent => ({ type: 'business_result', stage, result: ok, via: 'reply' });
  assert.equal(line(at('checking'), at('in_approval'), result('check', true)), 'ticket tk_1 check passed; in approval (checking → in_approval): http://localhost:3000/tickets/tk_1');
  assert.equal(line(at('awaiting_check_callback'), at('rejected_by_check'), result('check', false)), 'ticket tk_1 check refused (awaiting_check_callback → rejected_by_check): http://localhost:3000/tickets/tk_1');
  assert.equal(line(at('in_approval'), at('executing', { stage: 'execute' }), { type: 'assistant_task_pending', stage: 'execute', taskId: 't' }), 'ticket tk_1 approved by the approvers; executing (in_approval → executing): http://localhost:3000/tickets/tk_1');
  assert.equal(line(at('awaiting_execute_callback'), at('completed'), result('execute', true)), 'ticket tk_1 executed: completed (awaiting_execute_callback → completed): http://localhost:3000/tickets/tk_1');
  assert.equal(line(at('in_approval'), at('rejected_by_approver'), { type: 'instance_closed', status: 'REJECTED' }), 'ticket tk_1 rejected by an approver (in_approval → rejected_by_approver): http://localhost:3000/tickets/tk_1');
  assert.equal(
    line(at('checking'), at('needs_operator'), { type: 'business_unreachable', stage: 'check', attempt: 5, error: 'HTTP 503' }),
    'ticket tk_1 needs an operator: the check stage could not reach the business service (HTTP 503) (checking → needs_operator): http://localhost:3000/tickets/tk_1',
  );
  assert.match(line(at('awaiting_execute_callback', { stage: 'execute' }), at('needs_operator', { stage: 'execute' }), { type: 'deadline_passed', stage: 'execute' }), /needs an operator: the execute stage passed its deadline/);
  assert.match(line(at('in_approval'), at('canceled', { closedBy: 'CANCELED' }), { type: 'instance_closed', status: 'CANCELED' }), /canceled: withdrawn by the requester \(in_approval → canceled\)/);
  assert.match(line(at('needs_operator'), at('in_approval'), { type: 'operator_resolve', actor: 'op' }), /check resolved by an operator; in approval/);
  assert.equal(transitionLine(base, at('completed', { id: 'tk_a/b' }), result('execute', true), 'https://tf.example.com/prefix'), 'ticket tk_a/b executed: completed (checking → completed): https://tf.example.com/prefix/tickets/tk_a%2Fb');
});
