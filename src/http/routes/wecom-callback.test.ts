import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWeComSimulator, type WeComSimulator } from '../../providers/wecom/simulator/server.ts';
import { approvalChangeXml } from '../../providers/wecom/simulator/pusher.ts';
import { until } from '../../testing/flow.ts';
import { startStack, type TestStack } from '../../testing/runtime.ts';
import { weComEnv, weComTemplate } from '../../testing/wecom.ts';

const pipeline = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: wecom-route, version: 1, owner: t }
provider: { type: wecom, template_id: TPL-ROUTE }
origin: api
notify_url: https://svc.example.com/notify
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { endpoint: https://svc.example.com/check, mode: sync }
fields:
  title: { widget: { label: 标题 }, type: text }
`;

/** /api/v1/wecom/callback: the URL check, and events verified, decrypted and stored (deduplicated) before the answer. */
describe('the WeCom callback route', () => {
  let stack: TestStack;
  let wecom: WeComSimulator;
  let url: string;
  before(async () => {
    wecom = await startWeComSimulator({ retryDelaysMs: [50, 50, 50] });
    wecom.model.defineTemplate(weComTemplate('TPL-ROUTE'));
    wecom.model.addUser('dev-zhang');
    stack = await startStack({ extra: { 'wecom-route.yaml': pipeline }, env: { ...weComEnv(wecom), TICKETFLOW_BODY_LIMIT: '16384' } });
    url = `${stack.runtime.url}/api/v1/wecom/callback`;
  });
  after(async () => {
    await stack.close();
    await wecom.close();
  });

  const stored = async (spNo: string) => (await stack.runtime.pool.query("SELECT event_id FROM inbound_events WHERE provider = 'wecom' AND instance_code = $1 ORDER BY event_id", [spNo])).rows.map((r) => r.event_id as string);
  const apply = () => wecom.model.apply({ creator_userid: 'dev-zhang', template_id: 'TPL-ROUTE', use_template_approver: 1, apply_data: { contents: [{ control: 'Text', id: 'Text-1569573760849', value: { text: 't' } }] } });
  const event = (spNo: string, statuChangeEvent = 1) => approvalChangeXml(wecom.options.corpId, { spNo, statuChangeEvent, createTime: 1_700_000_000, instance: wecom.model.instance(spNo) });

  test('the URL check: the decrypted echostr, bare, well within 1 s; a forged one is 401', async () => {
    const check = await wecom.verifyUrl(url);
    assert.ok(check.ok, JSON.stringify(check));
    assert.ok(check.ms < 1000);
    const forged = await fetch(`${url}?msg_signature=${'0'.repeat(40)}&timestamp=1&nonce=2&echostr=abc`);
    assert.equal(forged.status, 401);
    assert.deepEqual(((await forged.json()) as { error: { code: string } }).error.code, 'bad_signature');
  });

  test('an event is stored before the answer: 200 with an empty body, and the row is there when it arrives', async () => {
    const spNo = apply().spNo;
    const req = wecom.pusher.sealFor(url, event(spNo));
    const res = await fetch(req.url, { method: 'POST', body: req.body, headers: req.headers });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
    assert.deepEqual(await stored(spNo), [`sys_approval_change:${spNo}:1:1:1700000000`]);
  });

  test('a delivery WeCom makes again (no answer in time, or twice) is stored once', async () => {
    wecom.setCallbackUrl(url);
    const spNo = apply().spNo;
    await wecom.pusher.idle();
    const delivery = wecom.pusher.deliveries.find((d) => d.event.spNo === spNo)!;
    assert.equal(delivery.status, 'delivered');
    wecom.pusher.redeliver(delivery.uuid);
    await wecom.pusher.idle();
    wecom.setCallbackUrl(undefined);
    assert.equal(wecom.pusher.deliveries.filter((d) => d.event.spNo === spNo && d.lastStatus === 200).length, 1, 'the same delivery object, answered 200 twice');
    assert.equal((await stored(spNo)).length, 1);
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.match(metrics, /ticketflow_events_duplicate_total\{provider="wecom"\} [1-9]/);
  });

  test('refused and nothing stored: a forged signature 401, a message for another corp 401, not the envelope 400, never 500', async () => {
    const spNo = apply().spNo;
    const good = wecom.pusher.sealFor(url, event(spNo));
    const forged = new URL(good.url);
    forged.searchParams.set('msg_signature', '0'.repeat(40));
    const foreign = wecom.pusher.sealFor(url, event(spNo), { aesKey: wecom.options.aesKey, corpId: 'ww-another-corp' });
    const answers = [];
    for (const [u, body] of [[forged.toString(), good.body], [foreign.url, foreign.body], [good.url, '{"encrypt": "json is not the envelope"}'], [good.url, '<xml><Encrypt>']] as const) {
      const res = await fetch(u, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
      answers.push([res.status, ((await res.json()) as { error: { code: string } }).error.code]);
    }
    assert.deepEqual(answers, [[401, 'bad_signature'], [401, 'wrong_receiver'], [400, 'malformed'], [400, 'malformed']]);
    assert.deepEqual(await stored(spNo), []);
  });

  test('a body over TICKETFLOW_BODY_LIMIT is refused while it is read (413), even without a Content-Length', async () => {
    let sent = 0;
    const chunk = new TextEncoder().encode('<xml>'.padEnd(4096, ' '));
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Far more than the limit: the refusal must come before the end.
        if (sent++ < 16_384) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${url}?msg_signature=x&timestamp=1&nonce=2`, { method: 'POST', body, headers: { 'content-type': 'text/xml' }, duplex: 'half' } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'body_too_large');
    assert.ok(sent < 16_384, `the client was stopped after ${sent} of 16384 chunks`);
    await until('counted', async () => /ticketflow_events_refused_total\{provider="wecom",reason="oversized"\} 1/.test(await (await fetch(`${stack.runtime.url}/metrics`)).text()));
  });
});
