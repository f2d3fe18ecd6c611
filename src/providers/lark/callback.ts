import type { InboundEvent } from '../../intake/inbound-event.ts';
import { digestEqual, safeEqual } from '../../security/constant-time.ts';
import { larkDecrypt, larkSignature } from './crypto.ts';

export type RefusalReason = 'malformed' | 'undecryptable' | 'bad_signature' | 'missing_signature' | 'bad_token' | 'not_configured';

export type CallbackOutcome =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'event'; event: InboundEvent }
  /** An approval definition changed (schema 2.0 `approval.approval.updated_v4`): its pipelines are checked again. */
  | { kind: 'definition_updated'; eventId: string; approvalCode: string }
  | { kind: 'ignored'; reason: 'event_type' | 'schema_2'; eventType?: string }
  | { kind: 'refused'; status: 400 | 401; reason: RefusalReason; message: string };

export interface LarkCallbackSettings {
  encryptKey?: string;
  verificationToken?: string;
}

export interface SignatureHeaders {
  timestamp?: string;
  nonce?: string;
  signature?: string;
}

const approvalEvents = new Set(['approval_task', 'approval_instance']);

/**
 * 审批定义更新 (https://open.feishu.cn/document/server-docs/approval-v4/event/common-event/custom-approval-event):
 * schema 2.0, pushed for a definition the app subscribed to (approval/v4/approvals/:code/subscribe) when its basic
 * information, form or flow changes; `event.object` carries `approval_code`, `approval_id`, `version_id`,
 * `form_definition_id`, `timestamp`…, of which only the code is read.
 */
export const DEFINITION_UPDATED = 'approval.approval.updated_v4';

const refuse = (status: 400 | 401, reason: RefusalReason, message: string): Extract<CallbackOutcome, { kind: 'refused' }> => ({ kind: 'refused', status, reason, message });

/**
 * Decodes one POST to /api/v1/lark/callback exactly as Lark sends it: signature over the raw bytes (when an
 * encrypt key is set), decryption, token check, then URL verification, a v1 approval event or a definition
 * update. Pure: no I/O.
 */
export function decodeLarkCallback(rawBody: Buffer, headers: SignatureHeaders, settings: LarkCallbackSettings): CallbackOutcome {
  let outer: unknown;
  try {
    outer = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return refuse(400, 'malformed', 'body is not JSON');
  }
  if (!isRecord(outer)) return refuse(400, 'malformed', 'body is not a JSON object');

  const signed = Boolean(headers.signature);
  if (settings.encryptKey && signed) {
    const expected = larkSignature(headers.timestamp ?? '', headers.nonce ?? '', settings.encryptKey, rawBody);
    if (!digestEqual(expected, headers.signature!)) return refuse(401, 'bad_signature', 'X-Lark-Signature does not match the body');
  }

  let body: Record<string, unknown> = outer;
  let text: string | undefined;
  if (typeof outer.encrypt === 'string') {
    if (!settings.encryptKey) return refuse(400, 'not_configured', 'the body is encrypted but LARK_ENCRYPT_KEY is not set');
    try {
      text = larkDecrypt(settings.encryptKey, outer.encrypt);
      const inner: unknown = JSON.parse(text);
      if (!isRecord(inner)) return refuse(400, 'malformed', 'the decrypted body is not a JSON object');
      body = inner;
    } catch {
      return refuse(400, 'undecryptable', 'the body could not be decrypted with LARK_ENCRYPT_KEY');
    }
  }

  const isV2 = body.schema === '2.0';
  const header = isRecord(body.header) ? body.header : {};
  const token = isV2 ? header.token : body.token;
  if (settings.verificationToken && !(typeof token === 'string' && safeEqual(token, settings.verificationToken))) {
    return refuse(401, 'bad_token', 'the verification token does not match');
  }

  if (body.type === 'url_verification') {
    if (typeof body.challenge !== 'string') return refuse(400, 'malformed', 'url_verification without a challenge');
    return { kind: 'challenge', challenge: body.challenge };
  }

  // Lark signs every event when an encrypt key is set; only URL verification comes unsigned.
  if (settings.encryptKey && !signed) return refuse(401, 'missing_signature', 'event without X-Lark-Signature');

  return decodeLarkEnvelope(body, text ?? rawBody.toString('utf8'));
}

/** What an event envelope means, once whatever carried it was verified (the webhook above, or the long connection). */
export type EnvelopeOutcome = Exclude<CallbackOutcome, { kind: 'challenge' }>;

/**
 * Reads one verified (and decrypted) event envelope, the same whether it came by webhook or over the long connection
 * (长连接, which carries the same v1 and schema 2.0 envelopes in plain text): a v1 approval event, a definition update,
 * or something ignored. `payloadText` is the envelope as received, stored as is. Pure.
 */
export function decodeLarkEnvelope(body: Record<string, unknown>, payloadText: string): EnvelopeOutcome {
  const isV2 = body.schema === '2.0';
  const header = isRecord(body.header) ? body.header : {};
  // The instance and task status events are consumed as v1 (approval_instance, approval_task; documented as v1:
  // https://open.feishu.cn/document/server-docs/approval-v4/event/common-event/approval-instance-event). The one
  // schema 2.0 event read is the definition update, verified like any other above; other 2.0 events are dropped.
  if (isV2 && header.event_type === DEFINITION_UPDATED) {
    const object = isRecord(body.event) && isRecord(body.event.object) ? body.event.object : {};
    if (typeof object.approval_code !== 'string' || object.approval_code === '') return refuse(400, 'malformed', `${DEFINITION_UPDATED} without event.object.approval_code`);
    return { kind: 'definition_updated', eventId: typeof header.event_id === 'string' ? header.event_id : '', approvalCode: object.approval_code };
  }
  if (isV2) return { kind: 'ignored', reason: 'schema_2', ...(typeof header.event_type === 'string' ? { eventType: header.event_type } : {}) };
  if (body.type !== 'event_callback' || !isRecord(body.event)) return refuse(400, 'malformed', 'not a Lark event envelope');
  const event = body.event;
  if (typeof body.uuid !== 'string' || body.uuid === '') return refuse(400, 'malformed', 'event without uuid');
  if (typeof event.type !== 'string' || !approvalEvents.has(event.type)) return { kind: 'ignored', reason: 'event_type' };
  return {
    kind: 'event',
    event: {
      provider: 'lark',
      eventId: body.uuid,
      eventType: event.type,
      definitionCode: typeof event.approval_code === 'string' ? event.approval_code : undefined,
      instanceCode: typeof event.instance_code === 'string' ? event.instance_code : undefined,
      payload: body,
      payloadText,
    },
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
