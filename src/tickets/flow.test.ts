import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeBusiness } from '../testing/business.ts';
import { ADMIN, SQL, adminForm, audit, humanDecides, pendingFor, sqlForm, submit, ticketOf, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

// The same flows with Lark's two deliveries (LARK_EVENT_MODE): the webhook (signed, encrypted POSTs), and the long
// connection the runtime opens with the official SDK's WSClient (every event in fragments, acknowledged over it).
for (const mode of ['webhook', 'websocket'] as const) describe(`tickets end to end, Lark events by ${mode}: simulator (Lark) → runtime → business service, over real HTTP and PostgreSQL`, () => {
  let stack: TestStack;
  let business: FakeBusiness;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({
      business: business.url,
      larkEventMode: mode,
      edit: (name, text) => {
        if (name === 'sql-change.yaml') return text.replace('deadline: 4h', 'deadline: 2s');
        if (name === 'admin-permission.yaml') return text.replace('retry: { attempts: 5, initial_delay: 1s, max_delay: 1m }', 'retry: { attempts: 3, initial_delay: 50ms, max_delay: 200ms }');
        return text;
      },
    });
  });
  after(async () => {
    await stack.close();
    await business.close();
  });

  test('happy path, sync: check → human approval → execute → completed; the business got typed fields, signed, with idempotency keys', async () => {
    const code = submit(stack, ADMIN, adminForm());
    const checking = await waitState(stack, code, 'in_approval');
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'approve');
    const done = await waitState(stack, code, 'completed');
    assert.equal(done.id, checking.id);
    const [check] = business.callsFor('check', done.id);
    const [execute] = business.callsFor('execute', done.id);
    assert.ok(check?.signatureOk && execute?.signatureOk);
    assert.equal(check!.headers['idempotency-key'], `${done.id}:check`);
    assert.equal(execute!.headers['idempotency-key'], `${done.id}:execute`);
    assert.deepEqual(check!.body.fields, { system: 'crm', roles: ['viewer'], until: '2026-12-31', reason: 'on-call rotation' });
    assert.deepEqual(check!.body.pipeline, { name: 'admin-permission', version: 1 });
    assert.equal((check!.body.provider as { instance_code: string }).instance_code, code);
    assert.equal((check!.body.applicant as { user_id: string }).user_id, 'alice');
    assert.equal(check!.body.callback_url, undefined, 'sync stages get no callback URL');
    await until('instance approved in Lark', () => stack.lark.model.instance(code).status === 'APPROVED');
    const timeline = stack.lark.model.instance(code).timeline.filter((e) => e.comment).map((e) => e.comment);
    assert.deepEqual(timeline, ['check ok', 'execute ok'], 'the business messages are the comments in Lark');
    const events = await until('the last audit entry', async () => {
      const ours = (await audit(stack, done.id)).filter((e) => !e.startsWith('im_task'));
      return ours.at(-1) === 'task_approved:completed' ? ours : undefined;
    });
    assert.deepEqual(events, ['ticket_opened:checking', 'assistant_task_pending:checking', 'business_result:in_approval', 'task_approved:in_approval', 'assistant_task_pending:executing', 'business_result:completed', 'task_approved:completed']);
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    const ran = (task: string) => Number(new RegExp(`^ticketflow_effects_total\\{task="${task}",outcome="done"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    assert.ok(ran('call_business') >= 2 && ran('decide_task') >= 2 && ran('process_events') >= 1, 'the effects ran in process, right after their commits');
  });

  const okReply = business_ok;

  test('async execute: the business is given a callback URL, answers later with a signed result, the ticket completes', async () => {
    business.reply = okReply;
    const code = submit(stack, SQL, sqlForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    business.reply = (c) => (c.body.stage === 'execute' ? { status: 202, body: { accepted: true } } : okReply(c));
    humanDecides(stack, code, 'approve');
    const waiting = await waitState(stack, code, 'awaiting_execute_callback');
    const [call] = business.callsFor('execute', waiting.id);
    assert.equal(call!.body.callback_url, `${stack.runtime.config.publicUrl}/api/v1/callback/execute`);
    const url = `${stack.runtime.url}/api/v1/callback/execute`;
    const result = { ticket_id: waiting.id, result: true, msg: '1 row updated' };
    assert.deepEqual(await business.callback(url, result), { status: 200, body: { ticket_id: waiting.id, state: 'completed' } });
    assert.equal((await business.callback(url, result)).status, 200, 'a repeat of the same result is 200 again');
    assert.equal((await business.callback(url, { ...result, result: false, error: 'changed my mind' })).status, 409);
    await until('Lark approved', () => stack.lark.model.instance(code).status === 'APPROVED');
  });

  test('async callbacks: forged or stale → 401 and the ticket unchanged; another stage → 409; unknown ticket → 404; the lark-ticket path works too', async () => {
    business.reply = (c) => (c.body.stage === 'execute' ? { status: 200, body: {} } : okReply(c));
    const code = submit(stack, SQL, sqlForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'approve');
    const waiting = await waitState(stack, code, 'awaiting_execute_callback');
    const url = `${stack.runtime.url}/api/v1/callback/execute`;
    const result = { ticket_id: waiting.id, result: true, msg: 'done' };
    const forged = await business.callback(url, result, { secret: 'f'.repeat(40) });
    assert.deepEqual(forged, { status: 401, body: { error: { code: 'bad_signature', message: 'the signature does not match' } } });
    const stale = await business.callback(url, result, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    assert.deepEqual(stale, { status: 401, body: { error: { code: 'stale_timestamp', message: 'the timestamp is more than 300 s from ours' } } });
    assert.equal((await business.callback(url, result, { secret: '' })).status, 401, 'unsigned');
    assert.equal((await ticketOf(stack, code))!.state, 'awaiting_execute_callback');
    assert.equal((await business.callback(`${stack.runtime.url}/api/v1/callback/check`, result)).status, 409);
    assert.equal((await business.callback(url, { ...result, ticket_id: 'tk_nope' })).status, 404);
    assert.equal((await business.callback(`${stack.runtime.url}/api/v1/lark/execute/callback`, result)).status, 200);
    await waitState(stack, code, 'completed');
  });

  test('the check rejects: the requester reads the business error in Lark, nothing is executed', async () => {
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: false, error: 'alice already has the viewer role' } });
    const code = submit(stack, ADMIN, adminForm());
    const t = await waitState(stack, code, 'rejected_by_check');
    await until('Lark rejected', () => stack.lark.model.instance(code).status === 'REJECTED');
    assert.ok(stack.lark.model.instance(code).timeline.some((e) => e.comment === 'alice already has the viewer role'));
    assert.equal(business.callsFor('execute', t.id).length, 0);
  });

  test('the execute rejects: execute_failed, the error is the rejection comment', async () => {
    business.reply = (c) => (c.body.stage === 'execute' ? { status: 200, body: { ticket_id: c.body.ticket_id, result: false, error: 'CRM is read-only today' } } : okReply(c));
    const code = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'approve');
    await waitState(stack, code, 'execute_failed');
    await until('Lark rejected', () => stack.lark.model.instance(code).status === 'REJECTED');
    assert.ok(stack.lark.model.instance(code).timeline.some((e) => e.comment === 'CRM is read-only today'));
  });

  test('a required field missing: rejected at the check node with a comment naming it, the business never called', async () => {
    business.reply = okReply;
    // The form designer made the widget optional in Lark; the pipeline still requires the field.
    const widget = stack.lark.model.definition(ADMIN).form.find((w) => w.id === 'widget_reason')!;
    widget.required = false;
    const form = adminForm().filter((w) => w.id !== 'widget_reason');
    const code = stack.lark.model.createInstance({ approval_code: ADMIN, user_id: 'alice', form: JSON.stringify(form) }).instance_code;
    widget.required = true;
    const t = await waitState(stack, code, 'rejected_by_check');
    assert.equal(business.callsFor('check', t.id).length, 0);
    await until('Lark rejected', () => stack.lark.model.instance(code).status === 'REJECTED');
    const comment = stack.lark.model.instance(code).timeline.find((e) => e.comment)?.comment;
    assert.equal(comment, 'The request cannot be checked: "reason" (widget "申请理由") is required but empty.');
  });

  test('a human rejects: rejected_by_approver, no execute call', async () => {
    business.reply = okReply;
    const code = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'reject', 'not this quarter');
    const t = await waitState(stack, code, 'rejected_by_approver');
    assert.equal(business.callsFor('execute', t.id).length, 0);
  });

  test('the requester recalls: canceled', async () => {
    business.reply = okReply;
    const code = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    stack.lark.model.cancel(code, 'alice');
    await waitState(stack, code, 'canceled');
  });

  test('every event of an instance delivered 10 times: each stage endpoint called exactly once', async () => {
    business.reply = okReply;
    const code = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    for (const d of stack.lark.pusher.deliveries.filter((x) => x.instanceCode === code)) for (let i = 0; i < 10; i++) stack.lark.pusher.redeliver(d.uuid);
    humanDecides(stack, code, 'approve');
    const t = await waitState(stack, code, 'completed');
    for (const d of stack.lark.pusher.deliveries.filter((x) => x.instanceCode === code)) for (let i = 0; i < 10; i++) stack.lark.pusher.redeliver(d.uuid);
    await stack.lark.pusher.idle();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(business.callsFor('check', t.id).length, 1);
    assert.equal(business.callsFor('execute', t.id).length, 1);
    const { rows } = await stack.runtime.pool.query('SELECT count(*)::int AS n FROM inbound_events WHERE instance_code = $1', [code]);
    assert.equal(rows[0].n, stack.lark.pusher.deliveries.filter((x) => x.instanceCode === code).length);
  });

  test('the business answers 503 twice, then succeeds: the ticket completes; three attempts are recorded with the same key', async () => {
    let failures = 0;
    business.reply = (c) => (c.body.stage === 'check' && failures++ < 2 ? { status: 503, body: { error: 'busy' } } : okReply(c));
    const code = submit(stack, ADMIN, adminForm());
    const t = await waitState(stack, code, 'in_approval');
    const calls = business.callsFor('check', t.id);
    assert.equal(calls.length, 3);
    assert.deepEqual(new Set(calls.map((c) => c.headers['idempotency-key'])), new Set([`${t.id}:check`]));
    const { rows } = await stack.runtime.pool.query("SELECT attempt, status FROM call_attempts WHERE ticket_id = $1 AND target = 'business' ORDER BY id", [t.id]);
    assert.deepEqual(rows.map((r) => [r.attempt, r.status]), [[1, 503], [2, 503], [3, 200]]);
  });

  test('the business down for good: needs_operator, the check task still pending in Lark, the requester told', async () => {
    business.reply = (c) => (c.body.stage === 'check' ? { status: 502 } : okReply(c));
    const code = submit(stack, ADMIN, adminForm());
    const t = await waitState(stack, code, 'needs_operator');
    assert.equal(t.stage, 'check');
    assert.equal(business.callsFor('check', t.id).length, 3, 'the pipeline allows 3 attempts');
    assert.equal(pendingFor(stack, code, 'assistant').length, 1, 'the IM task stays pending');
    await until('the comment', () => stack.lark.model.instance(code).comment_list.length);
    assert.match(stack.lark.model.instance(code).comment_list[0]!.comment, /could not reach the check service after 3 attempts \(last error: HTTP 502\)\. Your request is waiting for an operator/);
  });

  test('an async deadline passing applies the declared outcome (sql-change: operator)', async () => {
    business.reply = (c) => (c.body.stage === 'execute' ? { status: 200, body: {} } : okReply(c));
    const code = submit(stack, SQL, sqlForm());
    await until('the manager task', () => pendingFor(stack, code, 'manager').length);
    humanDecides(stack, code, 'approve');
    await waitState(stack, code, 'awaiting_execute_callback');
    const t = await waitState(stack, code, 'needs_operator', 10_000);
    assert.equal(t.stage, 'execute');
    assert.equal(pendingFor(stack, code, 'assistant').length, 1);
  });

  test('a pipeline edited while a ticket is in flight: the ticket finishes on its version; a new ticket gets the new one', async () => {
    business.reply = okReply;
    const old = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, old, 'manager').length);
    const file = join(stack.pipelinesDir, 'admin-permission.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('  version: 1', '  version: 2').replace(`endpoint: ${business.url}/ticketflow/execute`, `endpoint: ${business.url}/v2/execute`));
    await until('version 2 live', () => stack.runtime.registry.get('admin-permission')?.version === 2);
    humanDecides(stack, old, 'approve');
    const finished = await waitState(stack, old, 'completed');
    assert.deepEqual(finished.pipeline, { name: 'admin-permission', version: 1 });
    const [oldExec] = business.callsFor('execute', finished.id);
    assert.equal(oldExec!.path, '/ticketflow/execute');
    assert.deepEqual(oldExec!.body.pipeline, { name: 'admin-permission', version: 1 });

    const fresh = submit(stack, ADMIN, adminForm());
    await until('the manager task', () => pendingFor(stack, fresh, 'manager').length);
    humanDecides(stack, fresh, 'approve');
    const t = await waitState(stack, fresh, 'completed');
    assert.deepEqual(t.pipeline, { name: 'admin-permission', version: 2 });
    assert.equal(business.callsFor('execute', t.id)[0]!.path, '/v2/execute');
  });

  if (mode === 'websocket') {
    test('every event came over the long connection, in fragments; the webhook route, with no token or key to check, is 404', async () => {
      assert.ok(stack.lark.wsGateway.pushes.length > 0 && stack.lark.wsGateway.pushes.every((p) => p.fragments > 1));
      const res = await fetch(`${stack.runtime.url}/api/v1/lark/callback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_configured');
    });
  }
});

function business_ok(c: import('../testing/business.ts').ReceivedCall) {
  return { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } };
}
