import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../../log.ts';
import type { ImCallOutcome } from '../../im-health.ts';
import { silentObserver } from '../../im-health.ts';
import { ProviderError } from '../../provider.ts';
import { LarkApi, LarkError } from '../api.ts';
import { larkApprovalLinks, larkProvider, defaultApprovalAppLink, FEISHU_APPROVAL_APPLINK } from '../provider.ts';
import { startLarkSimulator, type LarkSimulator } from './server.ts';

const definition = {
  approval_code: 'APPROVAL-1',
  approval_name: 'Access request',
  form: [{ id: 'widget_reason', name: '理由', type: 'textarea' }],
  nodes: [{ node_id: 'n_mgr', name: 'managers', approvers: ['bob', 'carol'], mode: 'OR' as const }],
};

describe('reminders and withdrawal on the Lark simulator, through the official SDK', () => {
  let sim: LarkSimulator;
  let api: LarkApi;
  const counted: Array<[string, ImCallOutcome]> = [];
  before(async () => {
    sim = await startLarkSimulator({ approveRatePerMinute: 0 });
    sim.model.defineApproval(definition);
    sim.model.defineApproval({ ...definition, approval_code: 'LOCKED', allow_withdraw: false });
    api = new LarkApi({ appId: sim.options.appId, appSecret: sim.options.appSecret, baseUrl: sim.url, log: createLogger('silent'), observer: { ...silentObserver, call: (a, o) => counted.push([a, o]) } });
  });
  after(() => sim.close());

  const create = (code = 'APPROVAL-1') => sim.model.createInstance({ approval_code: code, user_id: 'alice', form: JSON.stringify([{ id: 'widget_reason', value: 'need it' }]) }).instance_code;

  test('im/v1/messages: a card to a user by user_id; the answer is the message; a uuid repeated within the hour sends nothing more', async () => {
    const card = JSON.stringify({ header: { title: { tag: 'plain_text', content: 'hi' } }, elements: [] });
    const id = await api.sendMessage('bob', 'interactive', card, 'uuid-1');
    assert.match(id, /^om_[0-9a-f]{32}$/);
    assert.equal(await api.sendMessage('bob', 'interactive', card, 'uuid-1'), id);
    assert.equal(sim.bot.messages.length, 1);
    assert.deepEqual({ ...sim.bot.messages[0], message_id: undefined, create_time: undefined }, { message_id: undefined, create_time: undefined, user_id: 'bob', msg_type: 'interactive', content: card, uuid: 'uuid-1' });
    assert.deepEqual(counted.filter(([a]) => a === 'im/v1/messages'), [
      ['im/v1/messages', 'ok'],
      ['im/v1/messages', 'ok'],
    ]);
  });

  test('im/v1/messages refuses a user the bot cannot reach (230013), content too long (230025), a bad request (230001)', async () => {
    const refused = (e: unknown, code: number) => e instanceof LarkError && e.code === code && e.httpStatus === 400;
    await assert.rejects(api.sendMessage('nobody', 'text', JSON.stringify({ text: 'x' })), (e) => refused(e, 230013));
    sim.bot.unreachable.add('carol');
    await assert.rejects(api.sendMessage('carol', 'text', JSON.stringify({ text: 'x' })), (e) => refused(e, 230013));
    sim.bot.unreachable.delete('carol');
    await assert.rejects(api.sendMessage('carol', 'interactive', JSON.stringify({ elements: ['x'.repeat(31 * 1024)] })), (e) => refused(e, 230025));
    await assert.rejects(api.sendMessage('carol', 'text', 'not json'), (e) => refused(e, 230001));
  });

  test('the provider: a card whose button opens the approval, a refused person reported (not thrown)', async () => {
    const provider = larkProvider(api, 'assistant', 0);
    const code = create();
    const reminder = { instanceCode: code, definitionCode: 'APPROVAL-1', title: 'T', text: 'line 1\nline 2', button: 'Open', dedupeKey: 'k-1' };
    assert.deepEqual(await provider.remind!({ ...reminder, to: [{ userId: 'bob', taskId: '1' }] }), { refused: [] });
    const sent = JSON.parse(sim.bot.messages.at(-1)!.content);
    const links = larkApprovalLinks(FEISHU_APPROVAL_APPLINK, code);
    assert.deepEqual(sent.elements[1].actions[0].multi_url, { url: links.mobile, android_url: links.mobile, ios_url: links.mobile, pc_url: links.pc });
    assert.equal(sent.elements[0].text.tag, 'plain_text', 'the words are never read as markdown');
    const out = await provider.remind!({ ...reminder, dedupeKey: 'k-2', to: [{ userId: 'nobody', taskId: '2' }] });
    assert.deepEqual(out, { refused: [{ userId: 'nobody', reason: 'Lark error 230013: Bot has NO availability to this user.' }] });
    assert.equal(provider.reminderBatch, 1);
    assert.equal(provider.remindPace?.key, `lark:${sim.options.appId}:im-message`);
    assert.equal(defaultApprovalAppLink('https://open.larksuite.com'), 'https://applink.larksuite.com/client/mini_program/open?appId=cli_9c7cc8a9a9edd105');
    assert.equal(defaultApprovalAppLink('https://open.feishu.cn'), FEISHU_APPROVAL_APPLINK);
    assert.equal(links.mobile, `https://applink.feishu.cn/client/mini_program/open?appId=cli_9cb844403dbb9108&path=pages%2Fdetail%2Findex%3FinstanceId%3D${code}`);
  });

  test('approval/v4/instances/cancel: only the originator, only pending, only where the definition allows withdrawing', async () => {
    const provider = larkProvider(api, 'assistant', 0);
    const code = create();
    await assert.rejects(provider.endInstance!({ definitionCode: 'APPROVAL-1', instanceCode: code, originator: 'bob', reason: 'r' }), (e) => e instanceof ProviderError && e.code === 1390001 && !e.transient);
    await provider.endInstance!({ definitionCode: 'APPROVAL-1', instanceCode: code, originator: 'alice', reason: 'r' });
    assert.equal(sim.model.instance(code).status, 'CANCELED');
    await assert.rejects(provider.endInstance!({ definitionCode: 'APPROVAL-1', instanceCode: code, originator: 'alice', reason: 'r' }), (e) => e instanceof ProviderError && e.code === 1390001);
    const locked = create('LOCKED');
    await assert.rejects(provider.endInstance!({ definitionCode: 'LOCKED', instanceCode: locked, originator: 'alice', reason: 'r' }), (e) => e instanceof ProviderError && /does not allow withdrawing/.test(e.message));
    assert.equal(sim.model.instance(locked).status, 'PENDING');
    await assert.rejects(provider.endInstance!({ definitionCode: 'APPROVAL-1', instanceCode: 'NO-SUCH', originator: 'alice', reason: 'r' }), (e) => e instanceof ProviderError && e.code === 1390003);
    const body = sim.calls.filter((c) => c.path === '/open-apis/approval/v4/instances/cancel')[1]!.body;
    assert.deepEqual(body, { approval_code: 'APPROVAL-1', instance_code: code, user_id: 'alice' });
  });
});
