import type { InboundEvent } from '../../intake/inbound-event.ts';
import { decryptWeCom, verifyWeComSignature, WrongReceiver, type WeComKeys } from './crypto.ts';
import { MalformedXml, parseWeComXml, readEnvelope, type XmlNode } from './xml.ts';

export type Query = Record<string, string | string[] | undefined>;

export type CallbackOutcome =
  | { kind: 'verified'; echo: string }
  | { kind: 'event'; event: InboundEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'refused'; status: 400 | 401; reason: string; message: string };

/** A repeated parameter is not WeCom's: one value each, or nothing. */
const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);

/**
 * Base64 never holds a space; a query parser that reads "+" as a space (application/x-www-form-urlencoded) would
 * break a ciphertext that reached us with a bare "+". WeCom sends it as %2B (the samples' URLs), so this only guards.
 */
const base64 = (v: string) => v.replaceAll(' ', '+');

/**
 * The URL check (验证URL有效性, https://developer.work.weixin.qq.com/document/path/90930): `GET
 * ?msg_signature&timestamp&nonce&echostr`; the signature is over the (URL-decoded) echostr, which decrypts to the
 * plaintext to answer "在1秒内响应GET请求，响应内容为上一步得到的明文消息内容(不能加引号，不能带bom头，不能带换行符)". Pure.
 */
export function decodeWeComVerification(query: Query, keys: WeComKeys): CallbackOutcome {
  const signature = one(query.msg_signature);
  const timestamp = one(query.timestamp);
  const nonce = one(query.nonce);
  const raw = one(query.echostr);
  if (!signature || !timestamp || !nonce || !raw) return { kind: 'refused', status: 400, reason: 'malformed', message: 'expected ?msg_signature&timestamp&nonce&echostr' };
  const echostr = base64(raw);
  if (!verifyWeComSignature(keys.token, timestamp, nonce, echostr, signature)) return { kind: 'refused', status: 401, reason: 'bad_signature', message: 'the signature does not match' };
  return opened(keys, echostr, (echo) => ({ kind: 'verified', echo }));
}

/**
 * One event (`POST ?msg_signature&timestamp&nonce`, body `<xml><ToUserName/><AgentID/><Encrypt/></xml>`, 90930):
 * the signature over token, timestamp, nonce and the Encrypt element; the decryption, whose receive id must be our
 * corp id; then the message. Only `sys_approval_change` (91815) is kept; other events of the app are ignored. Pure.
 *
 * No timestamp window: WeCom's pages give none (and DingTalk's route has none either). A replayed delivery is
 * deduplicated by the inbox, and it is only a trigger: the state is read from getapprovaldetail.
 */
export function decodeWeComCallback(query: Query, rawBody: Buffer, keys: WeComKeys): CallbackOutcome {
  const signature = one(query.msg_signature);
  const timestamp = one(query.timestamp);
  const nonce = one(query.nonce);
  if (!signature || !timestamp || !nonce) return { kind: 'refused', status: 400, reason: 'malformed', message: 'expected ?msg_signature&timestamp&nonce' };
  let encrypt: string;
  try {
    encrypt = readEnvelope(rawBody.toString('utf8')).encrypt;
  } catch (e) {
    return { kind: 'refused', status: 400, reason: 'malformed', message: e instanceof MalformedXml ? `the body is not WeCom's envelope: ${e.message}` : 'the body is not XML' };
  }
  if (!verifyWeComSignature(keys.token, timestamp, nonce, encrypt, signature)) return { kind: 'refused', status: 401, reason: 'bad_signature', message: 'the signature does not match' };
  return opened(keys, encrypt, (message) => {
    let root: XmlNode;
    try {
      root = parseWeComXml(message, true);
    } catch (e) {
      return { kind: 'refused', status: 400, reason: 'malformed', message: `the decrypted message is not XML: ${(e as Error).message}` };
    }
    return approvalEvent(root);
  });
}

function opened(keys: WeComKeys, encrypt: string, next: (message: string) => CallbackOutcome): CallbackOutcome {
  let message: string;
  try {
    message = decryptWeCom(keys, encrypt);
  } catch (e) {
    if (e instanceof WrongReceiver) return { kind: 'refused', status: 401, reason: 'wrong_receiver', message: 'the message is for another corp (its receive id is not WECOM_CORP_ID)' };
    return { kind: 'refused', status: 400, reason: 'undecryptable', message: 'the message could not be decrypted with WECOM_ENCODING_AES_KEY' };
  }
  return next(message);
}

/**
 * A sys_approval_change event as the inbox stores it: the parsed message (WeCom's own element names, repeated
 * elements as arrays). The number is `SpNoStr` when present, else `SpNo` (91815: SpNo "不推荐使用此字段" on the current
 * page; older payloads have SpNo only). Deduplicated on number + StatuChangeEvent + SpStatus + CreateTime: the
 * receive page's advice, FromUserName + CreateTime, does not separate two approval events of one second (FromUserName
 * is always "sys").
 */
export function approvalEvent(root: XmlNode): CallbackOutcome {
  if (root.MsgType !== 'event' || root.Event !== 'sys_approval_change') return { kind: 'ignored', reason: 'event_type' };
  const info = root.ApprovalInfo;
  if (!info || typeof info !== 'object' || Array.isArray(info)) return { kind: 'refused', status: 400, reason: 'malformed', message: 'sys_approval_change without ApprovalInfo' };
  const spNo = typeof info.SpNoStr === 'string' && info.SpNoStr ? info.SpNoStr : typeof info.SpNo === 'string' ? info.SpNo : '';
  const templateId = typeof info.TemplateId === 'string' ? info.TemplateId : '';
  if (!spNo || !templateId) return { kind: 'refused', status: 400, reason: 'malformed', message: 'sys_approval_change without SpNo or TemplateId' };
  const eventId = ['sys_approval_change', spNo, String(info.StatuChangeEvent ?? ''), String(info.SpStatus ?? ''), String(root.CreateTime ?? '')].join(':');
  return { kind: 'event', event: { provider: 'wecom', eventId, eventType: 'sys_approval_change', definitionCode: templateId, instanceCode: spNo, payload: root as Record<string, unknown> } };
}
