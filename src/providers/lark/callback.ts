import type { InboundEvent } from '../../intake/inbound-event.ts';
import { digestEqual, safeEqual } from '../../security/constant-time.ts';
import { larkDecrypt, larkSignature } from './crypto.ts';

export type RefusalReason = 'malformed' | 'undecryptable' | 'bad_signature' | 'missing_signature' | 'bad_token' | 'not_configured';

export type CallbackOutcome =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'event'; event: InboundEvent }
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

const refuse = (status: 400 | 401, reason: RefusalReason, message: string): CallbackOutcome => ({ kind: 'refused', status, reason, message });

/**
 * Decodes one POST to /api/v1/lark/callback exactly as Lark sends it: signature over the raw bytes (when an
 * encrypt key is set), decryption, token check, then URL verification or a v1 approval event. Pure: no I/O.
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

  // Only the v1 approval events are consumed: the instance and task status events are documented as v1
  // (approval_instance, approval_task; https://open.feishu.cn/document/server-docs/approval-v4/event/common-event/approval-instance-event).
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
      payloadText: text ?? rawBody.toString('utf8'),
    },
  };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
