import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeBusiness } from '../testing/business.ts';
import { until } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';

interface State {
  instance: { status: string; task_list: Array<{ id: string; user_id: string; status: string; node_name: string }> };
  ticket: { id: string; state: string; fields: Record<string, unknown> } | null;
  audit: Array<{ event: string; to_state: string; actor: string }>;
  calls: Array<{ target: string; stage: string | null; action: string; status: number | null }>;
  done: boolean;
  html: Record<string, string>;
}

describe('the Playground, in sandbox mode', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let base: string;
  let cookie = '';
  let csrf = '';
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    business.reply = (c) =>
      c.path === '/ticketflow/options/systems'
        ? { status: 200, body: { options: [{ id: 'crm', label: { zh_cn: '客户系统', en_us: 'CRM' } }, { id: 'erp', label: 'ERP' }] } }
        : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } };
    stack = await startStack({ business: business.url, env: { LARK_APP_ID: '' } });
    assert.equal(stack.runtime.config.sandbox, true);
    base = stack.runtime.url;
    // The console's sandbox session, as a browser gets it with its first page.
    const page = await fetch(`${base}/playground`);
    cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    csrf = /data-csrf="([^"]+)"/.exec(await page.text())![1]!;
  });
  after(async () => {
    await stack?.close();
    await business?.close();
  });

  const get = (path: string, lang = 'en') => fetch(`${base}${path}`, { headers: { cookie, 'accept-language': lang } });
  const post = (path: string, body: unknown, options: { csrf?: string; lang?: string } = {}) =>
    fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { cookie, 'content-type': 'application/json', 'accept-language': options.lang ?? 'en', ...(options.csrf === '' ? {} : { 'x-csrf-token': options.csrf ?? csrf }) } });
  const state = async (code: string) => (await (await get(`/playground/instances/${code}/state`)).json()) as State;
  const simulator = () => stack.runtime.simulator!;
  const adminFields = { system: 'crm', roles: ['editor'], until: '2026-12-31', reason: 'on-call rotation' };

  test('shows a form generated from the pipeline\'s fields: labels, options with their labels, options from the source, required marks, input types', async () => {
    const res = await get('/playground?pipeline=admin-permission');
    assert.equal(res.status, 200);
    const page = await res.text();
    const field = (name: string) => new RegExp(`<div class="pg-field" data-field="${name}" data-type="([a-z_]+)">([\\s\\S]*?)<p class="pg-problem"`).exec(page);
    assert.deepEqual(['system', 'roles', 'until', 'reason'].map((n) => field(n)?.[1]), ['option', 'options', 'date', 'textarea']);
    assert.match(field('reason')![2]!, /申请理由 <code>reason<\/code> <span class="pg-required">required<\/span>/, 'the widget label, marked required');
    assert.match(field('until')![2]!, /<span class="pg-optional">optional<\/span>[\s\S]*type="date"/);
    assert.match(field('roles')![2]!, /value="viewer"> Viewer \(viewer\)[\s\S]*value="editor"> Editor \(editor\)[\s\S]*value="admin"> Administrator \(admin\)/);
    assert.match(field('roles')![2]!, /Roles requested in that system\./, 'the field description');
    assert.match(field('system')![2]!, /<select id="pg-f-system" required><option value="">Choose…<\/option><option value="crm" >CRM \(crm\)<\/option><option value="erp" >ERP \(erp\)<\/option><\/select>/, 'the options source\'s answer');
    assert.match(page, /<a href="\/playground" id="nav-playground">Playground<\/a><a href="\/sandbox" id="nav-sandbox">Sandbox &amp; secrets<\/a>/, 'the sandbox pages are in the navigation');
    const zh = await (await get('/playground?pipeline=admin-permission', 'zh')).text();
    assert.match(zh, /value="editor"> 编辑 \(editor\)/);
    assert.match(zh, /<span class="pg-required">必填<\/span>/);
    for (const name of ['admin-permission', 'sql-change', 'travel-expense']) assert.match(page, new RegExp(`data-pipeline="${name}"`));
    assert.doesNotMatch(page, /data-pipeline="clouddm-data-change"/, 'a DingTalk pipeline is not in the Lark simulator');
    const expense = await (await get('/playground?pipeline=travel-expense')).text();
    assert.match(expense, /data-field="lines" data-type="table"[\s\S]*<td data-field="category" data-type="option"><select aria-label="category" required>/);
    assert.match(expense, /data-field="trip" data-type="date_range"/);
  });

  test('a submit without the CSRF token is refused and creates nothing', async () => {
    const before = simulator().model.instances.size;
    const res = await post('/playground/instances', { pipeline: 'admin-permission', user_id: 'alice', fields: adminFields }, { csrf: '' });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'csrf');
    const forged = await post('/playground/instances', { pipeline: 'admin-permission', user_id: 'alice', fields: adminFields }, { csrf: 'x'.repeat(24) });
    assert.equal(forged.status, 403);
    assert.equal(simulator().model.instances.size, before);
  });

  test('a form with problems is answered 422 naming each field, in the reader\'s language, and creates nothing', async () => {
    const before = simulator().model.instances.size;
    const res = await post('/playground/instances', { pipeline: 'admin-permission', user_id: 'alice', fields: { system: 'crm', roles: ['root'] } }, { lang: 'zh' });
    assert.equal(res.status, 422);
    const body = (await res.json()) as { problems: Array<{ field: string; message: string }> };
    assert.deepEqual(body.problems, [
      { field: 'roles', message: '请从列出的选项中选择。' },
      { field: 'reason', message: '此项必填。' },
    ]);
    assert.equal(simulator().model.instances.size, before);
  });

  test('submitting creates the instance and the ticket appears; the approver approves and the ticket completes, its business calls shown', async () => {
    const res = await post('/playground/instances', { pipeline: 'admin-permission', user_id: 'alice', fields: adminFields });
    assert.equal(res.status, 201);
    const { instance_code: code, url } = (await res.json()) as { instance_code: string; url: string };
    assert.equal(url, `/playground/instances/${code}`);
    const instance = simulator().model.instance(code);
    assert.equal(instance.user_id, 'alice');
    assert.deepEqual(
      (JSON.parse(instance.form) as Array<{ id: string; value: unknown }>).map((w) => [w.id, w.value]),
      [
        ['widget_system', 'crm'],
        ['widget_roles', ['编辑']],
        ['widget_until', '2026-12-31T00:00:00+08:00'],
        ['widget_reason', 'on-call rotation'],
      ],
    );

    const waiting = await until('the manager\'s task', async () => {
      const s = await state(code);
      return s.ticket?.state === 'in_approval' && s.instance.task_list.some((t) => t.user_id === 'manager' && t.status === 'PENDING') ? s : undefined;
    });
    assert.deepEqual(waiting.ticket!.fields, adminFields);
    assert.deepEqual(business.callsFor('check').map((c) => c.body.fields), [adminFields]);
    assert.ok(waiting.calls.some((c) => c.target === 'business' && c.stage === 'check' && c.status === 200), 'the check call is shown');
    assert.match(waiting.html.tasks!, /class="pg-approve" data-decision="approve" data-user="manager">Approve as manager</);
    assert.equal((await get(`/playground/instances/${code}`)).status, 200);

    const assistantTask = simulator().model.instance(code).task_list.find((t) => t.user_id === 'assistant')!;
    const refused = await post(`/playground/instances/${code}/tasks/${assistantTask.id}/approve`, {});
    assert.equal(refused.status, 403, 'the assistant\'s tasks are the runtime\'s to decide');
    const manager = waiting.instance.task_list.find((t) => t.user_id === 'manager' && t.status === 'PENDING')!;
    assert.equal((await post(`/playground/instances/${code}/tasks/${manager.id}/approve`, {}, { csrf: '' })).status, 403, 'deciding needs the CSRF token');
    const approved = await post(`/playground/instances/${code}/tasks/${manager.id}/approve`, { comment: 'ok from the playground' });
    assert.equal(approved.status, 200);

    const done = await until('the ticket completed', async () => {
      const s = await state(code);
      return s.done ? s : undefined;
    });
    assert.equal(done.ticket!.state, 'completed');
    assert.equal(done.instance.status, 'APPROVED');
    assert.deepEqual(done.calls.filter((c) => c.target === 'business').map((c) => `${c.stage} ${c.status}`), ['check 200', 'execute 200']);
    assert.deepEqual(done.audit.map((a) => a.to_state).filter((s, i, all) => s !== all[i - 1]), ['checking', 'in_approval', 'executing', 'completed']);
    assert.match(done.html.progress!, /class="pg-step done" data-step="pgStepExecute"/);
    assert.match(done.html.ticket!, /id="pg-ticket-state" data-state="completed" title="completed">Completed</);
    assert.match(done.html.timeline!, /Approved in Lark by manager/, 'the timeline tells it in sentences');
    assert.equal((await post(`/playground/instances/${code}/tasks/${manager.id}/approve`, {})).status, 409, 'a decided task cannot be decided again');
  });

  test('rejecting as the approver ends the ticket rejected_by_approver', async () => {
    const { instance_code: code } = (await (await post('/playground/instances', { pipeline: 'admin-permission', user_id: 'bob', fields: adminFields })).json()) as { instance_code: string };
    const task = await until('the manager\'s task', async () => (await state(code)).instance.task_list.find((t) => t.user_id === 'manager' && t.status === 'PENDING'));
    assert.equal((await post(`/playground/instances/${code}/tasks/${task.id}/reject`, { comment: 'not now' })).status, 200);
    const done = await until('the ticket final', async () => {
      const s = await state(code);
      return s.done ? s : undefined;
    });
    assert.equal(done.ticket!.state, 'rejected_by_approver');
    assert.equal(business.callsFor('execute', done.ticket!.id).length, 0);
  });

  test('an unknown instance is 404', async () => {
    assert.equal((await get('/playground/instances/NOPE/state')).status, 404);
    assert.equal((await get('/playground/instances/NOPE')).status, 404);
  });
});

describe('outside sandbox mode', () => {
  let stack: TestStack;
  const token = 'admin-token-'.padEnd(40, 'x');
  before(async () => {
    stack = await startStack({ env: { TICKETFLOW_ADMIN_TOKEN: token } });
  });
  after(() => stack?.close());

  test('the Playground does not exist: every route answers 404, even to an operator', async () => {
    assert.equal(stack.runtime.config.sandbox, false);
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(`${stack.runtime.url}/tickets`, { headers: auth })).status, 200, 'the console itself answers');
    for (const [method, path] of [
      ['GET', '/playground'],
      ['GET', '/playground?pipeline=admin-permission'],
      ['POST', '/playground/instances'],
      ['GET', '/playground/instances/X'],
      ['GET', '/playground/instances/X/state'],
      ['POST', '/playground/instances/X/tasks/1/approve'],
    ] as const) {
      const res = await fetch(`${stack.runtime.url}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: method === 'POST' ? JSON.stringify({ pipeline: 'admin-permission', user_id: 'alice', fields: {} }) : undefined });
      assert.equal(res.status, 404, `${method} ${path}`);
    }
    assert.doesNotMatch(await (await fetch(`${stack.runtime.url}/tickets`, { headers: auth })).text(), /href="\/(playground|sandbox)"/, 'no link to them');
    assert.equal(stack.lark.model.instances.size, 0);
  });
});
