import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { signRequestV11 } from '../../business/signature.ts';
import { checkPipelines } from '../../pipeline/check.ts';
import { getTicket } from '../../store/sql/get-ticket.ts';
import { FakeBusiness } from '../../testing/business.ts';
import { until } from '../../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../../testing/runtime.ts';
import { weComEnv, weComTemplate } from '../../testing/wecom.ts';
import { WeComApi } from './api.ts';
import { weComProvider } from './provider.ts';
import { startWeComSimulator, type WeComSimulator } from './simulator/server.ts';

/** The WeCom flow tests' pipeline (its fixture cases are beside it), its endpoints at the test's business service. */
const text = readFileSync(new URL('./testdata/pipelines/wecom-api.yaml', import.meta.url), 'utf8').replaceAll('https://dba.example.com', 'BUSINESS');

/** An origin: api ticket on WeCom, end to end: the business creates it, WeCom's people decide, the callback drives it. */
describe('tickets born in a business system, on WeCom', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let wecom: WeComSimulator;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    business.reply = (c) => (c.path === '/notify' ? { status: 200 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } });
    wecom = await startWeComSimulator({ retryDelaysMs: [50, 100, 200] });
    wecom.model.defineTemplate(weComTemplate('TPL-API', ['dba-li']));
    wecom.model.addUser({ userid: 'dev-zhang', name: '张', mobile: '13900000002' }, 'dev-li', 'dev-wang');
    stack = await startStack({ business: business.url, extra: { 'wecom-api.yaml': text }, env: weComEnv(wecom) });
    wecom.setCallbackUrl(`${stack.runtime.url}/api/v1/wecom/callback`);
  });
  after(async () => {
    await stack.close();
    await wecom.close();
    await business.close();
  });

  const post = async (body: unknown, key: string) => {
    const raw = JSON.stringify(body);
    const path = '/api/v1/pipelines/wecom-api/tickets';
    const res = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'idempotency-key': key, ...signRequestV11(testSecret, { method: 'POST', path, idempotencyKey: key, rawBody: raw }) } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { ticket_id: string } };
  };
  const linked = (id: string) => until('the WeCom request', async () => {
    const t = await getTicket(stack.runtime.pool, id);
    return t && !t.instanceCode.startsWith('pending:') ? t : undefined;
  });
  const notified = (id: string) => until('notified', () => business.calls.find((c) => c.path === '/notify' && c.body.ticket_id === id));

  test('check → applyevent with the template\'s controls → approved in WeCom → callback → execute → notify completed; the originator found by mobile', async () => {
    const fields = { title: 'fix order 7', sql: 'UPDATE o SET s = 1 WHERE id = 7;', env: 'prod' };
    const created = await post({ fields, originator: { mobile: '13900000002' } }, 'w-1');
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const ticket = await linked(created.body.ticket_id);
    const request = wecom.model.instance(ticket!.instanceCode);
    assert.equal(request.creator, 'dev-zhang');
    assert.deepEqual(request.contents, [
      { control: 'Text', id: 'Text-1569573760849', value: { text: 'fix order 7' } },
      { control: 'Textarea', id: 'Textarea-1569573760860', value: { text: 'UPDATE o SET s = 1 WHERE id = 7;' } },
      { control: 'Selector', id: 'Selector-1569573760854', value: { selector: { type: 'single', options: [{ key: 'option-1569573760854' }] } } },
    ]);
    assert.equal(business.callsFor('execute', ticket!.id).length, 0, 'nothing executes before the approval');
    wecom.model.approve(ticket!.instanceCode, 'dba-li', '同意');
    const notify = await notified(ticket!.id);
    assert.deepEqual([notify.body.state, notify.body.result], ['completed', true]);
    assert.deepEqual(business.callsFor('execute', ticket!.id)[0]!.body.fields, fields);
    assert.equal(business.callsFor('execute', ticket!.id).length, 1);
    // The callbacks were triggers: each read the request's state (getapprovaldetail).
    assert.ok(wecom.calls.some((c) => c.path === '/cgi-bin/oa/getapprovaldetail' && (c.body as { sp_no: string }).sp_no === ticket!.instanceCode));
  });

  test('rejected in WeCom: rejected_by_approver, execute never called; withdrawn: canceled', async () => {
    const a = await post({ fields: { title: 'reject me', sql: 'DROP TABLE o;', env: 'test' }, originator: { user_id: 'dev-li' } }, 'w-rej');
    const b = await post({ fields: { title: 'withdraw me', sql: 'SELECT 1;', env: 'test' }, originator: { user_id: 'dev-wang' } }, 'w-wd');
    const [ta, tb] = [await linked(a.body.ticket_id), await linked(b.body.ticket_id)];
    wecom.model.reject(ta!.instanceCode, 'dba-li', '不行');
    wecom.model.withdraw(tb!.instanceCode);
    assert.equal((await notified(ta!.id)).body.state, 'rejected_by_approver');
    assert.equal((await notified(tb!.id)).body.state, 'canceled');
    assert.equal((await getTicket(stack.runtime.pool, tb!.id))!.closedBy, 'CANCELED');
    assert.equal(business.callsFor('execute', ta!.id).length + business.callsFor('execute', tb!.id).length, 0);
  });

  test('a check rejection answers 422 and applies for nothing in WeCom', async () => {
    const before = wecom.model.instances.size;
    business.reply = (c) => (c.body.stage === 'check' ? { status: 200, body: { ticket_id: c.body.ticket_id, result: false, error: 'no DELETE' } } : { status: 200 });
    const res = await post({ fields: { title: 't', sql: 'DELETE FROM o;', env: 'prod' }, originator: { user_id: 'dev-li' } }, 'w-422');
    assert.equal(res.status, 422);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(wecom.model.instances.size, before);
    business.reply = (c) => (c.path === '/notify' ? { status: 200 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
  });

  test('a crash between WeCom\'s create and our commit: the retry adopts the request instead of applying twice', async () => {
    const [f] = checkPipelines([{ path: 'wecom-api.yaml', text: text.replaceAll('BUSINESS', business.url) }]).files;
    const provider = weComProvider(new WeComApi({ corpId: wecom.options.corpId, appSecret: wecom.options.appSecret, baseUrl: wecom.url }));
    const ticket = { id: 'tk_crash', fields: { title: 'crash', sql: 'SELECT 2;', env: 'test' }, originator: 'dev-wang', openedAt: new Date() };
    const first = await provider.createInstance!(f!.pipeline!, ticket);
    const retry = await provider.createInstance!(f!.pipeline!, ticket);
    assert.equal(retry.instanceCode, first.instanceCode);
    const other = await provider.createInstance!(f!.pipeline!, { ...ticket, id: 'tk_other', fields: { ...ticket.fields, sql: 'SELECT 3;' } });
    assert.notEqual(other.instanceCode, first.instanceCode, 'a different form is a different request');
  });

  test('two tickets with the same form from the same originator get a request each: a request linked to another ticket is never adopted', async () => {
    const fields = { title: 'same twice', sql: 'SELECT 4;', env: 'test' };
    const a = await post({ fields, originator: { user_id: 'dev-li' } }, 'w-twin-a');
    const ta = await linked(a.body.ticket_id);
    const b = await post({ fields, originator: { user_id: 'dev-li' } }, 'w-twin-b');
    assert.equal(b.status, 201, JSON.stringify(b.body));
    const tb = await linked(b.body.ticket_id);
    assert.notEqual(tb!.instanceCode, ta!.instanceCode);
  });
});
