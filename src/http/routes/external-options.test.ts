import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeBusiness } from '../../testing/business.ts';
import { askExternalOptions } from '../../providers/lark/simulator/external-options.ts';
import { startStack, testSecret, type TestStack } from '../../testing/runtime.ts';

describe('external options at /field/<pipeline>/<field>', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({ business: business.url, env: { LARK_OPTIONS_TOKEN: 'options-token' } });
  });
  after(async () => {
    await stack.close();
    await business.close();
  });

  const ask = async (path: string, body: Record<string, unknown>) => {
    const res = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const larkAsk = { user_id: 'alice', employee_id: 'e1', token: 'options-token', linkage_params: {}, page_token: '', query: '', locale: 'zh_cn' };

  test('a static list answers in Lark\'s exact shape, filtered by the query, with both locales', async () => {
    const res = await ask('/field/admin-permission/roles', { ...larkAsk, query: '编' });
    assert.deepEqual(res, {
      status: 200,
      body: {
        code: 0,
        msg: 'success!',
        data: {
          result: {
            options: [{ id: 'editor', value: '@i18n@editor', isDefault: false }],
            i18nResources: [
              { locale: 'zh_cn', isDefault: true, texts: { '@i18n@editor': '编辑' } },
              { locale: 'en_us', isDefault: false, texts: { '@i18n@editor': 'Editor' } },
            ],
            hasMore: false,
            nextPageToken: '',
          },
        },
      },
    });
  });

  test('a source URL gets a signed IM-neutral request; its answer is translated and cached briefly', async () => {
    business.reply = (c) => (c.path === '/ticketflow/options/systems' ? { status: 200, body: { options: [{ id: 'crm', label: { zh_cn: '客户系统', en_us: 'CRM' } }], has_more: true, next_page_token: 'p2' } } : { status: 404 });
    const res = await ask('/field/admin-permission/system', { ...larkAsk, query: 'c', page_token: 'p1' });
    const result = (res.body.data as { result: Record<string, unknown> }).result;
    assert.deepEqual(result, {
      options: [{ id: 'crm', value: '@i18n@crm', isDefault: false }],
      i18nResources: [
        { locale: 'zh_cn', isDefault: true, texts: { '@i18n@crm': '客户系统' } },
        { locale: 'en_us', isDefault: false, texts: { '@i18n@crm': 'CRM' } },
      ],
      hasMore: true,
      nextPageToken: 'p2',
    });
    const sourceCalls = business.calls.filter((c) => c.path === '/ticketflow/options/systems');
    assert.equal(sourceCalls.length, 1);
    assert.ok(sourceCalls[0]!.signatureOk);
    assert.deepEqual(sourceCalls[0]!.body, { pipeline: 'admin-permission', field: 'system', query: 'c', page_token: 'p1', locale: 'zh_cn', user_id: 'e1' }, 'the real user id (employee_id), not Lark\'s internal user_id');
    await ask('/field/admin-permission/system', { ...larkAsk, query: 'c', page_token: 'p1' });
    assert.equal(business.calls.filter((c) => c.path === '/ticketflow/options/systems').length, 1, 'served from the cache');
  });

  test('a wrong token is 401, an unknown field 404, a failing source 502', async () => {
    assert.equal((await ask('/field/admin-permission/roles', { ...larkAsk, token: 'nope' })).status, 401);
    assert.equal((await ask('/field/admin-permission/nope', larkAsk)).status, 404);
    assert.equal((await ask('/field/no-such-pipeline/roles', larkAsk)).status, 404);
    business.reply = () => ({ status: 503 });
    const down = await ask('/field/admin-permission/system', { ...larkAsk, query: 'other' });
    assert.equal(down.status, 502);
    assert.match(String(down.body.msg), /HTTP 503/);
  });
});

describe('external options as Lark asks for them', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  const key = 'data-source-key-from-the-lark-console';
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    stack = await startStack({ business: business.url, env: { LARK_OPTIONS_TOKEN: 'options-token', LARK_OPTIONS_ENCRYPT_KEY: key } });
  });
  after(async () => {
    await stack.close();
    await business.close();
  });

  test('the options source hears the user\'s real user id (employee_id), never Lark\'s internal user_id', async () => {
    business.reply = () => ({ status: 200, body: { options: [{ id: 'crm', label: '客户系统' }], has_more: false } });
    const res = await askExternalOptions(`${stack.runtime.url}/field/admin-permission/system`, { token: 'options-token', key, userId: 'alice', query: 'who' });
    assert.equal(res.status, 200);
    const call = business.calls.find((c) => c.path === '/ticketflow/options/systems')!;
    assert.equal(call.body.user_id, 'alice');
  });

  test('with the data source\'s Key (LARK_OPTIONS_ENCRYPT_KEY), data.result is encrypted as Lark expects and decrypts to the options', async () => {
    const res = await askExternalOptions(`${stack.runtime.url}/field/admin-permission/roles`, { token: 'options-token', key, userId: 'alice' });
    assert.equal(typeof (res.body.data as { result: unknown }).result, 'string', 'result travels encrypted');
    assert.deepEqual((res.result!.options as Array<{ id: string }>).map((o) => o.id), ['viewer', 'editor', 'admin']);
    assert.equal(res.result!.hasMore, false);
    await assert.rejects(askExternalOptions(`${stack.runtime.url}/field/admin-permission/roles`, { token: 'options-token', key: 'another-key', userId: 'alice' }), 'a wrong Key cannot read it');
  });
});
