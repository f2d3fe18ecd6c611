import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signRequestV11 } from '../business/signature.ts';
import { checkPipelines } from '../pipeline/check.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { getTicket } from '../store/sql/get-ticket.ts';
import { FakeBusiness } from '../testing/business.ts';
import { until } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

const pipelineText = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: perm-api, version: 1, owner: t }
provider: { type: lark, approval_code: API-PERM }
origin: api
notify_url: BUSINESS/notify
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { endpoint: BUSINESS/check, mode: sync, timeout: 3s }
  execute: { endpoint: BUSINESS/execute, mode: sync }
fields:
  system: { widget: { custom_id: system }, type: text }
  roles: { widget: { custom_id: roles }, type: options, options: [{ label: 只读, id: viewer }, { label: 编辑, id: editor }] }
  until: { widget: { custom_id: until }, type: date, required: false }
`;

/** The same pipeline whose check is tried once: a check service that is down sends the ticket to an operator at once. */
const oneTryText = pipelineText
  .replace('name: perm-api,', 'name: perm-api-once,')
  .replace('approval_code: API-PERM }', 'approval_code: API-PERM-ONCE }')
  .replace('mode: sync, timeout: 3s }', 'mode: sync, timeout: 3s, retry: { attempts: 1 } }');
const adminToken = 'admin-token-'.padEnd(40, 'x');

describe('tickets born in a business system, on Lark', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({ business: business.url, extra: { 'perm-api.yaml': pipelineText, 'perm-api-once.yaml': oneTryText }, env: { TICKETFLOW_ADMIN_TOKEN: adminToken } });
    for (const [path, text] of [['perm-api.yaml', pipelineText], ['perm-api-once.yaml', oneTryText]] as const) {
      const [f] = checkPipelines([{ path, text: text.replaceAll('BUSINESS', business.url) }]).files;
      stack.lark.model.defineApproval(definitionForPipeline(f!.pipeline!, 'assistant'));
    }
    stack.lark.model.directory.set('+86 13800000001', 'alice');
  });
  after(async () => {
    await stack.close();
    await business.close();
  });

  const post = async (body: unknown, key: string | undefined, options: { secret?: string; path?: string } = {}) => {
    const raw = JSON.stringify(body);
    const path = options.path ?? '/api/v1/pipelines/perm-api/tickets';
    const signature = options.secret === '' ? {} : signRequestV11(options.secret ?? testSecret, { method: 'POST', path, idempotencyKey: key, rawBody: raw });
    const headers: Record<string, string> = { 'content-type': 'application/json', ...signature, ...(key ? { 'idempotency-key': key } : {}) };
    const res = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: raw, headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const request = { fields: { system: 'crm', roles: ['editor'], until: '2026-12-31' }, originator: { user_id: 'alice' } };

  test('created, checked, approved in Lark, executed, and the notify URL told, signed', async () => {
    business.reply = (c) => (c.path === '/notify' ? { status: 200, body: {} } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } });
    const created = await post(request, 'key-1');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.state, 'in_approval');
    const id = String(created.body.ticket_id);
    const ticket = await until('the Lark instance', async () => ((await getTicket(stack.runtime.pool, id))?.instanceCode.startsWith('pending:') === false ? getTicket(stack.runtime.pool, id) : undefined));
    const instance = stack.lark.model.instance(ticket!.instanceCode);
    assert.equal(instance.user_id, 'alice');
    assert.deepEqual(JSON.parse(instance.form).map((w: { custom_id: string; value: unknown }) => [w.custom_id, w.value]), [['system', 'crm'], ['roles', ['编辑']], ['until', '2026-12-31T00:00:00+08:00']]);
    const task = instance.task_list.find((t) => t.status === 'PENDING')!;
    stack.lark.model.approveTask({ approval_code: 'API-PERM', instance_code: instance.instance_code, user_id: task.user_id, task_id: task.id });
    const notify = await until('the notify webhook', () => business.calls.find((c) => c.path === '/notify' && c.body.ticket_id === id));
    assert.ok(notify.signatureOk);
    assert.deepEqual(notify.body, { ticket_id: id, pipeline: 'perm-api', state: 'completed', result: true, msg: 'execute ok', error: null });
    assert.deepEqual(business.callsFor('execute', id)[0]!.body.fields, request.fields);
    const path = `/api/v1/pipelines/perm-api/tickets/${id}`;
    const state = await fetch(`${stack.runtime.url}${path}`, { headers: signRequestV11(testSecret, { method: 'GET', path, rawBody: '' }) });
    assert.equal(((await state.json()) as { state: string }).state, 'completed');
  });

  test('a create whose answer was lost: the retry gets 60012 for the uuid, reads the instance by it and adopts it', async () => {
    business.reply = (c) => (c.path === '/notify' ? { status: 200 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    stack.lark.loseAnswerOfNext('POST', '/open-apis/approval/v4/instances');
    const created = await post(request, 'key-lost-answer');
    assert.equal(created.status, 201);
    const id = String(created.body.ticket_id);
    const linked = await until('the Lark instance', async () => {
      const t = await getTicket(stack.runtime.pool, id);
      return t && !t.instanceCode.startsWith('pending:') ? t : undefined;
    });
    const made = [...stack.lark.model.instances.values()].filter((i) => i.uuid === id);
    assert.equal(made.length, 1, 'one instance');
    assert.equal(linked.instanceCode, made[0]!.instance_code, 'the ticket adopted the instance its lost create made');
    const attempts = await stack.runtime.pool.query(`SELECT status, error FROM call_attempts WHERE ticket_id = $1 AND action = 'create instance' ORDER BY id`, [id]);
    assert.deepEqual(attempts.rows.map((r) => r.status ?? 'unreachable'), ['unreachable', 200]);
    const audit = await stack.runtime.pool.query(`SELECT event FROM ticket_audit WHERE ticket_id = $1`, [id]);
    assert.ok(!audit.rows.some((r) => r.event === 'create_instance_failed'));
  });

  test('a check rejection answers 422 with the business error and creates nothing in Lark', async () => {
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: false, error: 'alice already has editor in crm' } });
    const before = stack.lark.model.instances.size;
    const res = await post(request, 'key-2');
    assert.equal(res.status, 422);
    assert.deepEqual(res.body.error, { code: 'check_failed', message: 'alice already has editor in crm' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(stack.lark.model.instances.size, before);
  });

  test('the same Idempotency-Key twice creates one instance; with another body it is 409', async () => {
    business.reply = (c) => (c.path === '/notify' ? { status: 200 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    const first = await post({ ...request, originator: { mobile: '+86 13800000001' } }, 'key-3');
    const again = await post({ ...request, originator: { mobile: '+86 13800000001' } }, 'key-3');
    assert.deepEqual([first.status, again.status], [201, 200]);
    assert.equal(again.body.ticket_id, first.body.ticket_id);
    await until('instance linked', async () => !(await getTicket(stack.runtime.pool, String(first.body.ticket_id)))!.instanceCode.startsWith('pending:'));
    const uuids = [...stack.lark.model.instances.values()].filter((i) => i.uuid === first.body.ticket_id);
    assert.equal(uuids.length, 1);
    assert.equal((await post({ ...request, fields: { ...request.fields, system: 'erp' } }, 'key-3')).status, 409);
  });

  test('an operator who rejects a ticket stuck at its check ends it as rejected_by_operator: the notify URL receives that state and the comment', async () => {
    business.reply = (c) => (c.path === '/notify' ? { status: 200, body: {} } : { status: 503 });
    const created = await post(request, 'key-operator', { path: '/api/v1/pipelines/perm-api-once/tickets' });
    assert.deepEqual([created.status, created.body.state], [202, 'needs_operator']);
    const id = String(created.body.ticket_id);
    const rejected = await fetch(`${stack.runtime.url}/api/v1/tickets/${id}/reject`, { method: 'POST', body: JSON.stringify({ comment: 'The CRM is frozen this week.' }), headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` } });
    assert.equal(rejected.status, 200, await rejected.clone().text());
    assert.equal(((await rejected.json()) as { state: string }).state, 'rejected_by_operator');
    const notify = await until('the notify webhook', () => business.calls.find((c) => c.path === '/notify' && c.body.ticket_id === id));
    assert.deepEqual(notify.body, { ticket_id: id, pipeline: 'perm-api-once', state: 'rejected_by_operator', result: false, msg: null, error: 'The CRM is frozen this week.' });
    assert.ok(![...stack.lark.model.instances.values()].some((i) => i.uuid === id), 'nothing was created in Lark');
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.match(metrics, /ticketflow_ticket_transitions_total\{pipeline="perm-api-once",state="rejected_by_operator"\} 1/);
  });

  test('unknown pipeline 404, unsigned 401, missing key 400, bad fields 422, unknown mobile 422', async () => {
    assert.equal((await post(request, 'k', { path: '/api/v1/pipelines/nope/tickets' })).status, 404);
    assert.equal((await post(request, 'k', { path: '/api/v1/pipelines/admin-permission/tickets' })).status, 404, 'an origin: im pipeline takes no tickets from the API');
    assert.equal((await post(request, 'k-unsigned', { secret: '' })).status, 401);
    assert.equal((await post(request, 'k-forged', { secret: 'x'.repeat(40) })).status, 401);
    assert.equal((await post(request, undefined)).status, 400);
    const bad = await post({ ...request, fields: { system: 'crm', roles: ['root'] } }, 'k-bad');
    assert.equal(bad.status, 422);
    assert.match(String((bad.body.error as { message: string }).message), /roles\/0 must be equal to one of the allowed values/);
    assert.equal((await post({ ...request, originator: { mobile: '+1 555' } }, 'k-mobile')).status, 422);
  });
});
