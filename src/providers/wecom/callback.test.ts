import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeWeComCallback, decodeWeComVerification } from './callback.ts';
import { encryptWeCom, weComSignature } from './crypto.ts';
import { MalformedXml, parseWeComXml } from './xml.ts';

/**
 * The example of 审批申请状态变化回调通知 (the current one, on the 代开发 page https://developer.work.weixin.qq.com/document/path/96508,
 * with SpNoStr; its tail completed from the older example of https://developer.work.weixin.qq.com/document/path/91815).
 */
const example = `<xml>
  <ToUserName><![CDATA[ww1cSD21f1e9c0caaa]]></ToUserName>
  <FromUserName><![CDATA[sys]]></FromUserName>
  <CreateTime>1571732272</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[sys_approval_change]]></Event>
  <AgentID>3010040</AgentID>
  <ApprovalInfo>
    <SpNoStr><![CDATA[202506110001]]></SpNoStr>
    <SpNo>202506110001</SpNo>
    <SpName><![CDATA[示例模板]]></SpName>
    <SpStatus>1</SpStatus>
    <TemplateId><![CDATA[3TkaH5KFbrG9heEQWLJjhgpFwmqAFB4dLEnapaB7aaa]]></TemplateId>
    <ApplyTime>1571728713</ApplyTime>
    <Applyer><UserId><![CDATA[WuJunJie]]></UserId><Party><![CDATA[1]]></Party></Applyer>
    <SpRecord>
      <SpStatus>1</SpStatus><ApproverAttr>2</ApproverAttr>
      <Details><Approver><UserId><![CDATA[WangXiaoMing]]></UserId></Approver>
        <Speech><![CDATA[]]></Speech><SpStatus>1</SpStatus><SpTime>0</SpTime></Details>
      <Details><Approver><UserId><![CDATA[XiaoGangHuang]]></UserId></Approver>
        <Speech><![CDATA[]]></Speech><SpStatus>1</SpStatus><SpTime>0</SpTime></Details>
    </SpRecord>
    <SpRecord>
      <SpStatus>1</SpStatus><ApproverAttr>1</ApproverAttr>
      <Details><Approver><UserId><![CDATA[XiaoHongLiu]]></UserId></Approver>
        <Speech><![CDATA[]]></Speech><SpStatus>1</SpStatus><SpTime>0</SpTime></Details>
    </SpRecord>
    <Notifyer><UserId><![CDATA[ChengLiang]]></UserId></Notifyer>
    <Comments>
      <CommentUserInfo><UserId><![CDATA[LiuZhi]]></UserId></CommentUserInfo>
      <CommentTime>1571732272</CommentTime>
      <CommentContent><![CDATA[这是一个备注]]></CommentContent>
      <CommentId><![CDATA[6750538708562308220]]></CommentId>
    </Comments>
    <StatuChangeEvent>10</StatuChangeEvent>
  </ApprovalInfo>
</xml>`;

const keys = { token: 'QDG6eK', aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', corpId: 'ww1cSD21f1e9c0caaa' };

function sealed(plain: string, k: { aesKey: string; corpId: string } = keys) {
  const encrypt = encryptWeCom(k, plain);
  const query = { msg_signature: weComSignature(keys.token, '1571732272', '1372623149', encrypt), timestamp: '1571732272', nonce: '1372623149' };
  return { query, body: Buffer.from(`<xml><ToUserName><![CDATA[${keys.corpId}]]></ToUserName><AgentID><![CDATA[3010040]]></AgentID><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`) };
}

test('the documented example: text kept as text (SpNo not a float), repeated elements always arrays, one item or many', () => {
  const root = parseWeComXml(example);
  const info = root.ApprovalInfo as Record<string, unknown>;
  assert.equal(info.SpNo, '202506110001');
  assert.equal(info.SpStatus, '1');
  assert.equal((info.SpRecord as unknown[]).length, 2);
  assert.equal(((info.SpRecord as Array<{ Details: unknown[] }>)[1]!.Details).length, 1, 'one approver: still an array');
  assert.deepEqual(info.Notifyer, [{ UserId: 'ChengLiang' }]);
  assert.equal((info.Comments as Array<{ CommentContent: string }>)[0]!.CommentContent, '这是一个备注');
  assert.throws(() => parseWeComXml('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><A>&b;</A></xml>'), MalformedXml, 'no DOCTYPE, so no entity can be declared');
  assert.throws(() => parseWeComXml('<xml><A>1</A>'), MalformedXml, 'an unclosed document');
  assert.throws(() => parseWeComXml('<other/>'), MalformedXml);
});

test('a sealed sys_approval_change: verified, decrypted, kept with its number, template and a delivery id', () => {
  const { query, body } = sealed(example);
  const outcome = decodeWeComCallback(query, body, keys);
  assert.equal(outcome.kind, 'event');
  if (outcome.kind !== 'event') return;
  assert.deepEqual({ ...outcome.event, payload: undefined }, { provider: 'wecom', eventId: 'sys_approval_change:202506110001:10:1:1571732272', eventType: 'sys_approval_change', definitionCode: '3TkaH5KFbrG9heEQWLJjhgpFwmqAFB4dLEnapaB7aaa', instanceCode: '202506110001', payload: undefined });
  const withoutStr = sealed(example.replace(/<SpNoStr>.*<\/SpNoStr>/, ''));
  const older = decodeWeComCallback(withoutStr.query, withoutStr.body, keys);
  assert.equal(older.kind === 'event' && older.event.instanceCode, '202506110001', 'older payloads have SpNo only');
});

test('refusals: a forged signature 401, another corp 401, a body that is not the envelope 400; other events ignored', () => {
  const { query, body } = sealed(example);
  assert.deepEqual(pick(decodeWeComCallback({ ...query, msg_signature: '0'.repeat(40) }, body, keys)), ['refused', 401, 'bad_signature']);
  const foreign = sealed(example, { aesKey: keys.aesKey, corpId: 'wwOTHERCORP' });
  assert.deepEqual(pick(decodeWeComCallback(foreign.query, foreign.body, keys)), ['refused', 401, 'wrong_receiver']);
  assert.deepEqual(pick(decodeWeComCallback(query, Buffer.from('{"encrypt":"x"}'), keys)), ['refused', 400, 'malformed']);
  assert.deepEqual(pick(decodeWeComCallback({ timestamp: '1', nonce: '2' }, body, keys)), ['refused', 400, 'malformed']);
  const text = sealed('<xml><ToUserName><![CDATA[ww1cSD21f1e9c0caaa]]></ToUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>');
  assert.deepEqual(pick(decodeWeComCallback(text.query, text.body, keys)), ['ignored']);
});

test('the URL check: the echostr decrypted, as the official vector B gives it (a "+" read as a space still decrypts)', () => {
  const b = { token: 'QDG6eK', aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C', corpId: 'wx5823bf96d3bd56c7' };
  const query = { msg_signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3', timestamp: '1409659589', nonce: '263014780', echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==' };
  assert.deepEqual(decodeWeComVerification(query, b), { kind: 'verified', echo: '1616140317555161061' });
  assert.deepEqual(decodeWeComVerification({ ...query, echostr: query.echostr.replaceAll('+', ' ') }, b), { kind: 'verified', echo: '1616140317555161061' });
  assert.deepEqual(pick(decodeWeComVerification({ ...query, nonce: '1' }, b)), ['refused', 401, 'bad_signature']);
  assert.deepEqual(pick(decodeWeComVerification(query, { ...b, corpId: 'ww-other' })), ['refused', 401, 'wrong_receiver']);
});

const pick = (o: { kind: string; status?: number; reason?: string }) => [o.kind, ...(o.kind === 'refused' ? [o.status, o.reason] : [])];

test('people\'s text in a decrypted message may read "<!DOCTYPE" or "<!ENTITY" (a comment pasting XML): kept, not refused; a declaration outside CDATA still is', () => {
  const pasted = example.replace('这是一个备注', 'see <!DOCTYPE html> and <!ENTITY x "y">');
  const { query, body } = sealed(pasted);
  const outcome = decodeWeComCallback(query, body, keys);
  assert.equal(outcome.kind, 'event', JSON.stringify(outcome));
  const declared = sealed(`<!DOCTYPE x [<!ENTITY a "b">]>${example}`);
  assert.deepEqual(pick(decodeWeComCallback(declared.query, declared.body, keys)), ['refused', 400, 'malformed']);
  assert.throws(() => parseWeComXml('<xml><Encrypt><![CDATA[<!DOCTYPE]]></Encrypt></xml>'), MalformedXml, 'the envelope, read before it is verified: refused anywhere');
});
