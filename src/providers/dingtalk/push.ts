import { randomBytes } from 'node:crypto';
import type { InboundEvent } from '../../intake/inbound-event.ts';
import { callbackSignature, decryptCallback, encryptCallback, verifyCallbackSignature } from './crypto.ts';

export interface PushSettings {
  token: string;
  aesKey: string;
  appKey: string;
}

export type PushOutcome =
  | { kind: 'check_url' }
  | { kind: 'event'; event: InboundEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'refused'; status: 400 | 401; reason: string; message: string };

/**
 * Decodes one DingTalk HTTP push (`?msg_signature|signature&timestamp&nonce`, body `{"encrypt"}`): signature over
 * token, timestamp, nonce and ciphertext; decryption; the owner must be our app key. Pure: no I/O.
 *
 * Every page shows the query's `timestamp` in lowercase (https://open.dingtalk.com/document/development/develop-stream-mode-push-server,
 * 开发 HTTP 模式; https://open.dingtalk.com/document/development/http-callback-overview) and only the reply spells
 * it `timeStamp`; a query with `timeStamp` is accepted as well. `msg_signature` is the current page's name,
 * `signature` the older pages'.
 */
export function decodeDingTalkPush(query: Record<string, string | string[] | undefined>, rawBody: Buffer, s: PushSettings): PushOutcome {
  let body: { encrypt?: unknown };
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { kind: 'refused', status: 400, reason: 'malformed', message: 'body is not JSON' };
  }
  // A repeated parameter is not DingTalk's: one value each, or nothing.
  const one = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);
  const signature = one(query.msg_signature) ?? one(query.signature);
  const timestamp = one(query.timestamp) ?? one(query.timeStamp);
  const nonce = one(query.nonce);
  if (typeof body?.encrypt !== 'string' || !signature || !timestamp || !nonce) return { kind: 'refused', status: 400, reason: 'malformed', message: 'expected ?msg_signature&timestamp&nonce and {"encrypt"}' };
  if (!verifyCallbackSignature(s.token, timestamp, nonce, body.encrypt, signature)) return { kind: 'refused', status: 401, reason: 'bad_signature', message: 'the signature does not match' };
  let message: string;
  try {
    const plain = decryptCallback(s.aesKey, body.encrypt);
    if (plain.owner !== s.appKey) return { kind: 'refused', status: 401, reason: 'wrong_app', message: 'the message is for another app' };
    message = plain.message;
  } catch {
    return { kind: 'refused', status: 400, reason: 'undecryptable', message: 'the body could not be decrypted with DINGTALK_AES_KEY' };
  }
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(message);
  } catch {
    return { kind: 'refused', status: 400, reason: 'malformed', message: 'the decrypted message is not JSON' };
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return { kind: 'refused', status: 400, reason: 'malformed', message: 'the decrypted message is not a JSON object' };
  if (e.EventType === 'check_url') return { kind: 'check_url' };
  if (e.EventType !== 'bpms_task_change' && e.EventType !== 'bpms_instance_change') return { kind: 'ignored', reason: 'event_type' };
  const instanceCode = String(e.processInstanceId ?? '');
  // Older payloads carry no eventId: a delivery is then identified by what it says.
  const eventId = typeof e.eventId === 'string' && e.eventId ? e.eventId : [e.EventType, instanceCode, e.taskId ?? '', e.type ?? '', e.result ?? '', e.finishTime ?? e.createTime ?? ''].join(':');
  return { kind: 'event', event: { provider: 'dingtalk', eventId, eventType: String(e.EventType), definitionCode: String(e.processCode ?? ''), instanceCode, payload: e, payloadText: message } };
}

/** The reply DingTalk needs (within 1.5 s; the current page says 2500 ms for the URL check): the encrypted, signed `success`. */
export function successReply(s: PushSettings): { msg_signature: string; timeStamp: string; nonce: string; encrypt: string } {
  const encrypt = encryptCallback(s.aesKey, 'success', s.appKey);
  const timeStamp = String(Date.now());
  const nonce = randomBytes(6).toString('hex');
  return { msg_signature: callbackSignature(s.token, timeStamp, nonce, encrypt), timeStamp, nonce, encrypt };
}
