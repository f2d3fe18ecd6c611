import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';
import { signRequestV11 } from './business/signature.ts';
import { ticketHistory } from './store/sql/ticket-history.ts';
import { ADMIN, EXPENSE, SQL, ticketOf, until } from './testing/flow.ts';
import { startStack, type TestStack } from './testing/runtime.ts';

const dingtalkOnly = {
  LARK_APP_ID: '',
  DINGTALK_APP_KEY: 'dingappkey',
  DINGTALK_APP_SECRET: 'dingtalk-app-secret',
  DINGTALK_ASSISTANT_USER_ID: 'dt-assistant',
  DINGTALK_TOKEN: 'dingtalk-token',
  DINGTALK_AES_KEY: 'a'.repeat(43),
  DINGTALK_API_BASE_URL: 'http://127.0.0.1:9',
  DINGTALK_OAPI_BASE_URL: 'http://127.0.0.1:9',
};

test('sandbox mode only when no IM is configured at all, and never on a non-loopback HOST', () => {
  assert.equal(loadConfig({}).sandbox, true);
  assert.equal(loadConfig(dingtalkOnly).sandbox, false, 'a DingTalk-only deployment is not a sandbox');
  assert.equal(loadConfig(dingtalkOnly).lark.enabled, false);
  assert.throws(() => loadConfig({ HOST: '0.0.0.0' }), (e: Error) => e instanceof ConfigError && /sandbox mode/.test(e.message) && /HOST=127\.0\.0\.1/.test(e.message));
  assert.throws(() => loadConfig({ HOST: '10.1.2.3' }), ConfigError);
  for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) assert.equal(loadConfig({ HOST: host }).sandbox, true, host);
  assert.equal(loadConfig({ ...dingtalkOnly, HOST: '0.0.0.0' }).sandbox, false, 'a configured IM may listen anywhere');
});

describe('a DingTalk-only deployment', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { ...dingtalkOnly, LARK_OPTIONS_TOKEN: '' } });
  });
  after(() => stack.close());

  test('gives an anonymous visitor no operator session, serves no options without a token, and takes no Lark events', async () => {
    const page = await fetch(`${stack.runtime.url}/tickets`, { redirect: 'manual' });
    assert.equal(page.status, 401, 'the sign-in page, not a sandbox operator session');
    assert.equal(page.headers.get('set-cookie'), null);
    assert.equal((await fetch(`${stack.runtime.url}/api/v1/tickets`)).status, 401);
    const options = await fetch(`${stack.runtime.url}/field/admin-permission/roles`, { method: 'POST', body: JSON.stringify({ token: '' }), headers: { 'content-type': 'application/json' } });
    assert.equal(options.status, 401);
    const lark = await fetch(`${stack.runtime.url}/api/v1/lark/callback`, { method: 'POST', body: JSON.stringify({ type: 'event_callback', uuid: 'x', event: {} }), headers: { 'content-type': 'application/json' } });
    assert.equal(lark.status, 404);
    assert.equal(((await lark.json()) as { error: { code: string } }).error.code, 'not_configured');
    assert.equal(stack.lark.calls.length, 0, 'nothing is asked of Lark');
  });

  test('has no sandbox page, names no simulator in /readyz, and reroutes nothing', async () => {
    assert.equal((await fetch(`${stack.runtime.url}/sandbox`)).status, 404);
    const ready = (await (await fetch(`${stack.runtime.url}/readyz`)).json()) as Record<string, unknown>;
    assert.equal(ready.sandbox, undefined);
    assert.equal(stack.runtime.exampleService, undefined);
    assert.equal(stack.runtime.config.exampleServiceUrl, undefined);
  });
});

describe('sandbox mode', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { LARK_APP_ID: '' } });
  });
  after(() => stack.close());
  const get = (host: string) =>
    new Promise<{ status: number; cookie?: string[] }>((resolve, reject) => {
      const url = new URL(`${stack.runtime.url}/`);
      request({ host: url.hostname, port: url.port, path: '/', headers: { host } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, cookie: res.headers['set-cookie'] });
      })
        .on('error', reject)
        .end();
    });

  test('answers only requests addressed to a loopback name: a rebound domain gets 421 and no operator session', async () => {
    assert.equal(stack.runtime.config.sandbox, true);
    const local = await get(`localhost:${new URL(stack.runtime.url).port}`);
    assert.equal(local.status, 200);
    assert.ok(local.cookie?.some((c) => c.startsWith('tf_session=')), 'the local operator session');
    const rebound = await get(`rebind.attacker.example:${new URL(stack.runtime.url).port}`);
    assert.equal(rebound.status, 421);
    assert.equal(rebound.cookie, undefined);
  });
});

describe('sandbox mode, out of the box: the example pipelines reach the example business service', () => {
  let stack: TestStack;
  let sim: string;
  before(async () => {
    // The example pipelines exactly as in pipelines/ (https://*.example.com endpoints), their secrets unset (the
    // sandbox invents them, and the example service must use the same), quick re-reads for the lost instance.
    const unset = Object.fromEntries(['ADMIN_PERMISSION', 'SQL_CHANGE', 'TRAVEL_EXPENSE', 'CLOUDDM_DATA_CHANGE', 'CLOUDDM_PERMISSION'].map((n) => [`TICKETFLOW_SECRET_${n}`, '']));
    stack = await startStack({ env: { LARK_APP_ID: '', TICKETFLOW_RECONCILE_AFTER_MS: '300', TICKETFLOW_RECONCILE_EVERY_MS: '300', ...unset } });
    sim = stack.runtime.simulator!.url;
  });
  after(() => stack.close());

  const post = async (url: string, body: unknown) => {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200, `${url}: ${await res.clone().text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  /** The requester submits and the manager approves, through the simulator's control routes (real HTTP). */
  const submit = async (approval_code: string, user_id: string, form: Array<{ id: string; value: unknown }>) => String((await post(`${sim}/_sim/instances`, { approval_code, user_id, form })).instance_code);
  /** The manager decides, once the check node is passed (the assistant's approval follows the ticket's move). */
  const managerDecides = async (code: string, action: 'approve' | 'reject') => {
    const task = await until(`the manager's task on ${code}`, async () => {
      const instance = (await (await fetch(`${sim}/_sim/instances/${code}`)).json()) as { task_list: Array<{ id: string; user_id: string; status: string }> };
      return instance.task_list.find((t) => t.user_id === 'manager' && t.status === 'PENDING');
    });
    await post(`${sim}/_sim/tasks/${task.id}/${action}`, {});
  };
  const comments = async (code: string) => ((await (await fetch(`${sim}/_sim/instances/${code}`)).json()) as { timeline: Array<{ comment?: string }> }).timeline.map((e) => e.comment).filter(Boolean);

  test('/readyz names the simulator and the example service', async () => {
    const ready = (await (await fetch(`${stack.runtime.url}/readyz`)).json()) as { status: string; sandbox: Record<string, string> };
    assert.equal(ready.status, 'ready');
    assert.deepEqual(ready.sandbox, { lark_simulator: sim, example_service: stack.runtime.exampleService!.url, page: `${stack.runtime.config.publicUrl}/sandbox` });
    assert.match(ready.sandbox.example_service!, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('GET /_sim/approvals lists every definition with its widgets and nodes', async () => {
    const { approvals } = (await (await fetch(`${sim}/_sim/approvals`)).json()) as { approvals: Array<{ approval_code: string; widgets: Array<Record<string, unknown>>; nodes: Array<Record<string, unknown>> }> };
    assert.deepEqual(approvals.map((a) => a.approval_code).sort(), [ADMIN, SQL, EXPENSE].sort(), 'the three Lark pipelines');
    const admin = approvals.find((a) => a.approval_code === ADMIN)!;
    assert.deepEqual(admin.widgets.find((w) => w.custom_id === 'roles'), { id: 'widget_roles', custom_id: 'roles', name: 'roles', type: 'checkboxV2', required: true, options: [{ value: 'viewer', text: '只读' }, { value: 'editor', text: '编辑' }, { value: 'admin', text: '管理员' }] });
    assert.deepEqual(admin.widgets.find((w) => w.id === 'widget_reason'), { id: 'widget_reason', custom_id: null, name: '申请理由', type: 'textarea', required: true, options: null });
    const assistant = stack.runtime.config.lark.assistantUserId;
    assert.deepEqual(admin.nodes.map((n) => [n.custom_node_id, n.approvers]), [['check_node', [assistant]], [null, ['manager']], ['execute_node', [assistant]]]);
  });

  test('an admin-permission ticket completes: check and execute answered by the example service (sync), options from its options source', async () => {
    const options = await post(`${stack.runtime.url}/field/admin-permission/system`, { token: '', query: 'wi', user_id: 'u', employee_id: 'bob', locale: 'en_us' });
    assert.match(JSON.stringify(options), /"id":"wiki"/, 'the options source of the pipeline answered through the sandbox mapping');
    const code = await submit(ADMIN, 'bob', [{ id: 'system', value: 'crm' }, { id: 'roles', value: ['editor'] }, { id: 'widget_reason', value: 'on call' }]);
    await until('in_approval', async () => (await ticketOf(stack, code))?.state === 'in_approval');
    await managerDecides(code, 'approve');
    await until('completed', async () => (await ticketOf(stack, code))?.state === 'completed');
    // The execute node's decision (with its comment) is the effect of the completing transition: it follows it.
    const said = await until('the execute comment', async () => {
      const all = await comments(code);
      return all.length >= 2 ? all : undefined;
    });
    assert.deepEqual(said, ['Checked: editor in crm can be granted.', 'Granted editor in crm.']);
    const refused = await submit(ADMIN, 'alice', [{ id: 'system', value: 'crm' }, { id: 'roles', value: ['viewer'] }, { id: 'widget_reason', value: 'x' }]);
    await until('rejected_by_check', async () => (await ticketOf(stack, refused))?.state === 'rejected_by_check');
  });

  test('a sql-change ticket completes through the async execute stage: the example service calls back, signed v1.1', async () => {
    const code = await submit(SQL, 'dan', [{ id: 'instance', value: 'prod-pg-01' }, { id: 'database', value: 'shop' }, { id: 'change_type', value: 'dml' }, { id: 'sql', value: 'UPDATE orders SET state = 2 WHERE id = 9' }, { id: 'widget_reason', value: 'fix' }]);
    await until('in_approval', async () => (await ticketOf(stack, code))?.state === 'in_approval');
    await managerDecides(code, 'approve');
    const done = await until('completed', async () => {
      const t = await ticketOf(stack, code);
      return t?.state === 'completed' ? t : undefined;
    });
    assert.deepEqual(done.results.execute, { result: true, msg: 'Ran 1 statement(s) on prod-pg-01/shop.' });
    const { audit } = await ticketHistory(stack.runtime.pool, done.id);
    assert.ok(audit.some((a) => a.to_state === 'awaiting_execute_callback'), 'the execute stage was async');
  });

  test('/sandbox shows each pipeline secret of this run, the one the example service verifies with, and how to verify one', async () => {
    const res = await fetch(`${stack.runtime.url}/sandbox`);
    assert.equal(res.status, 200);
    const page = await res.text();
    const secret = /TICKETFLOW_SECRET_ADMIN_PERMISSION<\/code><\/td><td><code class="secret">([0-9a-f]{64})</.exec(page)?.[1];
    assert.ok(secret, 'the admin-permission secret is shown');
    assert.match(page, /verifyRequestV11\(\{ secrets: \[secret\], method: req\.method!, path: req\.url!, rawBody, \.\.\.signatureHeaders\(req\.headers\) \}\)/);
    assert.match(page, /type AdminPermissionRequest/);
    assert.match(page, new RegExp(`${sim.replace(/[.:/]/g, '\\$&')}/_sim/approvals`));
    const raw = JSON.stringify({ ticket_id: 'tk_page', stage: 'check', pipeline: { name: 'admin-permission', version: 1 }, provider: { type: 'lark', instance_code: 'x' }, applicant: { user_id: 'zoe' }, fields: { system: 'wiki', roles: ['viewer'], reason: 'x' } });
    const call = await fetch(`${stack.runtime.exampleService!.url}/ticketflow/check`, { method: 'POST', body: raw, headers: { 'idempotency-key': 'tk_page:check', ...signRequestV11(secret, { method: 'POST', path: '/ticketflow/check', idempotencyKey: 'tk_page:check', rawBody: raw }) } });
    assert.equal(call.status, 200, 'the example service verifies with the secret the page shows');
  });

  test('a ticket whose instance the simulator lost is closed once, saying why, and its instance is not asked for again', async () => {
    const code = await submit(ADMIN, 'gus', [{ id: 'system', value: 'wiki' }, { id: 'roles', value: ['admin'] }, { id: 'widget_reason', value: 'x' }]);
    await until('in_approval', async () => (await ticketOf(stack, code))?.state === 'in_approval');
    stack.runtime.simulator!.model.instances.delete(code);
    const closed = await until('canceled', async () => {
      const t = await ticketOf(stack, code);
      return t?.state === 'canceled' ? t : undefined;
    });
    assert.equal(closed.closedBy, 'DELETED');
    const { audit } = await ticketHistory(stack.runtime.pool, closed.id);
    const last = audit.at(-1)!;
    assert.equal(last.actor, 'reconciler');
    assert.match(JSON.stringify(last.detail), /the lark instance [0-9A-F-]+ no longer exists \(deleted, or the sandbox's simulator lost its state\)/);
    const reads = () => stack.runtime.simulator!.calls.filter((c) => c.path.includes(code)).length;
    const before = reads();
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(reads(), before, 'no re-read of an instance whose ticket is closed');
  });
});
