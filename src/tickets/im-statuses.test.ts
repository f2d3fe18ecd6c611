import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeBusiness } from '../testing/business.ts';
import { ADMIN, adminForm, audit, humanDecides, pendingFor, submit, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

/** Lark's instance statuses beyond approve/reject/withdraw (approval instance event page): each is mapped explicitly. */
describe('Lark instance statuses: closed by timeout, recovered, revoked', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({ business: business.url });
  });
  after(async () => {
    await stack.close();
    await business.close();
  });

  test('OVERTIME_CLOSE closes the ticket (canceled, the reason in the audit); OVERTIME_RECOVER reopens it and it completes', async () => {
    const code = submit(stack, ADMIN, adminForm());
    await waitState(stack, code, 'in_approval');
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    stack.lark.model.timeOut(code);
    const closed = await waitState(stack, code, 'canceled');
    assert.equal(closed.closedBy, 'TIMED_OUT');
    stack.lark.model.recover(code);
    await waitState(stack, code, 'in_approval');
    await until('the manager task again', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'approve');
    const done = await waitState(stack, code, 'completed');
    assert.deepEqual((await audit(stack, done.id)).filter((e) => e.startsWith('instance_')), ['instance_closed:canceled', 'instance_reopened:in_approval']);
    assert.equal(business.callsFor('check', done.id).length, 1, 'the check passed before the timeout is not asked again');
  });

  test('a timeout while the check task is pending: recovery runs the check when its task comes back', async () => {
    business.reply = (c) => (c.body.stage === 'check' ? { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: 'ok' }, delayMs: 400 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    const code = submit(stack, ADMIN, adminForm([{ id: 'widget_reason', value: 'slow check' }]));
    await waitState(stack, code, 'checking');
    stack.lark.model.timeOut(code);
    await waitState(stack, code, 'canceled');
    stack.lark.model.recover(code);
    await waitState(stack, code, 'in_approval', 10_000);
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
  });

  test('a revoke after completion (REVERTED) leaves the completed ticket as it is', async () => {
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    const code = submit(stack, ADMIN, adminForm([{ id: 'widget_reason', value: 'revoke me' }]));
    const done = await (async () => {
      await waitState(stack, code, 'in_approval');
      await until('the manager task', () => pendingFor(stack, code, 'manager').length);
      humanDecides(stack, code, 'approve');
      return waitState(stack, code, 'completed');
    })();
    await until('both assistant decisions recorded', async () => (await audit(stack, done.id)).filter((e) => e.startsWith('task_approved')).length === 2);
    await until('the instance approved', () => stack.lark.model.instance(code).status === 'APPROVED');
    await stack.lark.pusher.idle();
    await until('every event of the instance processed', async () => (await stack.runtime.pool.query('SELECT 1 FROM inbound_events WHERE instance_code = $1 AND processed_at IS NULL', [code])).rowCount === 0);
    const before = await audit(stack, done.id);
    stack.lark.model.revert(code, 'alice');
    await stack.lark.pusher.idle();
    await until('the REVERTED event processed', async () => (await stack.runtime.pool.query(`SELECT 1 FROM inbound_events WHERE instance_code = $1 AND payload->'event'->>'status' = 'REVERTED' AND processed_at IS NOT NULL`, [code])).rowCount);
    assert.equal((await waitState(stack, code, 'completed')).closedBy, undefined);
    assert.deepEqual(await audit(stack, done.id), before, 'the work was done: nothing changes');
  });
});
