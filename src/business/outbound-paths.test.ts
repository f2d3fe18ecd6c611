import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkPipelines } from '../pipeline/check.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { FakeBusiness } from '../testing/business.ts';
import { signRequestV11 } from './signature.ts';
import { submit, until, waitState } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

const guarded = (business: string, other: string) => `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: guarded, version: 1, owner: t }
provider: { type: lark, approval_code: GUARDED }
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
allow_insecure_http: true
stages:
  check: { node: { custom_id: check_node }, endpoint: http://169.254.169.254/latest/meta-data/, mode: sync, timeout: 2s }
  execute: { node: { custom_id: execute_node }, endpoint: ${business}/execute, mode: sync }
fields:
  system: { widget: { custom_id: system }, type: option, options_source: ${other}/options }
`;

const guardedApi = (business: string, other: string) => `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: guarded-api, version: 1, owner: t }
provider: { type: lark, approval_code: GUARDED-API }
origin: api
notify_url: ${other}/notify
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { endpoint: ${business}/check, mode: sync }
  execute: { endpoint: ${business}/execute, mode: sync }
fields:
  reason: { widget: { custom_id: reason }, type: text }
`;

/** Every outbound business URL goes through the one guard: stage endpoints, options sources, notify URLs. */
describe('the outbound guard on every business URL', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let other: FakeBusiness;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    other = await new FakeBusiness(testSecret).start();
    const text = guarded(business.url, other.url);
    const apiText = guardedApi(business.url, other.url);
    stack = await startStack({ extra: { 'guarded.yaml': text, 'guarded-api.yaml': apiText }, env: { TICKETFLOW_ALLOWED_HOSTS: `${new URL(business.url).host}`, LARK_OPTIONS_TOKEN: 'options-token' } });
    for (const [path, t] of [['guarded.yaml', text], ['guarded-api.yaml', apiText]] as const) {
      const [f] = checkPipelines([{ path, text: t }]).files;
      stack.lark.model.defineApproval(definitionForPipeline(f!.pipeline!, 'assistant'));
    }
  });
  after(async () => {
    await stack.close();
    await business.close();
    await other.close();
  });

  test('an options source outside TICKETFLOW_ALLOWED_HOSTS is never asked: 502 with the reason', async () => {
    const res = await fetch(`${stack.runtime.url}/field/guarded/system`, { method: 'POST', body: JSON.stringify({ token: 'options-token', employee_id: 'alice' }), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 502);
    assert.match(((await res.json()) as { msg: string }).msg, /TICKETFLOW_ALLOWED_HOSTS/);
    assert.equal(other.calls.length, 0);
  });

  test('a stage endpoint on the metadata address is refused without a call: needs_operator at once, not retried', async () => {
    const code = submit(stack, 'GUARDED', [{ id: 'system', value: 'crm' }]);
    const t = await waitState(stack, code, 'needs_operator');
    const { rows } = await stack.runtime.pool.query(`SELECT error FROM call_attempts WHERE ticket_id = $1 AND target = 'business'`, [t.id]);
    assert.equal(rows.length, 1);
    assert.match(rows[0].error, /169\.254\.169\.254.*(TICKETFLOW_ALLOWED_HOSTS|metadata)/);
  });

  test('a notify URL outside TICKETFLOW_ALLOWED_HOSTS is never called: the attempt records why', async () => {
    const raw = JSON.stringify({ fields: { reason: 'guarded' }, originator: { user_id: 'alice' } });
    const path = '/api/v1/pipelines/guarded-api/tickets';
    const created = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'idempotency-key': 'guarded-1', ...signRequestV11(testSecret, { method: 'POST', path, idempotencyKey: 'guarded-1', rawBody: raw }) } });
    assert.equal(created.status, 201);
    const id = String(((await created.json()) as { ticket_id: string }).ticket_id);
    const instance = await until('the Lark instance', () => [...stack.lark.model.instances.values()].find((i) => i.uuid === id));
    await until('the approver task', () => instance.task_list.find((t) => t.status === 'PENDING'));
    const task = instance.task_list.find((t) => t.status === 'PENDING')!;
    stack.lark.model.approveTask({ approval_code: instance.approval_code, instance_code: instance.instance_code, user_id: task.user_id, task_id: task.id });
    const attempt = await until('the notify attempt', async () => (await stack.runtime.pool.query(`SELECT error FROM call_attempts WHERE ticket_id = $1 AND action = 'notify'`, [id])).rows[0]);
    assert.match(attempt.error, /TICKETFLOW_ALLOWED_HOSTS/);
    assert.equal(other.calls.length, 0);
  });
});

