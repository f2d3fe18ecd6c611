import { OutboundError, outboundRequest, type OutboundPolicy } from './outbound.ts';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, SIGNATURE_V11_HEADER, signRequestV11 } from './signature.ts';

export type CallOutcome =
  | { kind: 'result'; result: boolean; msg?: string; error?: string }
  | { kind: 'accepted' }
  | { kind: 'unreachable'; error: string; retryInMs?: number; final?: boolean };

export interface CallRecord {
  request: { url: string; headers: Record<string, string>; body: unknown };
  response?: { headers: Record<string, string>; body: unknown };
  status?: number;
  error?: string;
  latencyMs: number;
}

export interface CallInput {
  url: string;
  body: Record<string, unknown>;
  secret: string;
  idempotencyKey: string;
  mode: 'sync' | 'async';
  timeoutMs: number;
  ticketId: string;
  policy: OutboundPolicy;
}

/** A reply larger than this is refused while it is read. */
const MAX_REPLY_BYTES = 1 << 20;

/**
 * One signed call to a business endpoint. Sync: a 2xx result object is the decision; anything else is a
 * transport failure, retried by the engine. Async: any 2xx means accepted.
 */
export async function callBusiness(input: CallInput): Promise<{ outcome: CallOutcome; record: CallRecord }> {
  const raw = JSON.stringify(input.body);
  const headers = { 'content-type': 'application/json', [IDEMPOTENCY_HEADER]: input.idempotencyKey, 'user-agent': 'ticketflow/1', ...signRequestV11(input.secret, { method: 'POST', path: input.url, idempotencyKey: input.idempotencyKey, rawBody: raw }, { withV1: true }) };
  const record: CallRecord = { request: { url: input.url, headers: redact(headers), body: input.body }, latencyMs: 0 };
  const started = performance.now();
  try {
    const res = await outboundRequest(input.url, { headers, body: raw, timeoutMs: input.timeoutMs, maxBytes: MAX_REPLY_BYTES, policy: input.policy });
    const text = res.body.toString('utf8');
    record.latencyMs = performance.now() - started;
    record.status = res.status;
    const body = parseJson(text);
    record.response = { headers: Object.fromEntries(Object.entries(res.headers).filter(([k]) => k === 'content-type' || k === 'retry-after').map(([k, v]) => [k, String(v)])), body: body ?? text.slice(0, 4000) };
    if (res.status >= 200 && res.status < 300) {
      if (input.mode === 'async') return { outcome: { kind: 'accepted' }, record };
      const result = asResult(body, input.ticketId);
      if (result) return { outcome: result, record };
      record.error = 'the reply is not a result object {ticket_id, result, msg, error} for this ticket';
      return { outcome: { kind: 'unreachable', error: record.error }, record };
    }
    record.error = `HTTP ${res.status}`;
    return { outcome: { kind: 'unreachable', error: record.error, retryInMs: retryAfterMs(header(res.headers['retry-after'])) }, record };
  } catch (e) {
    record.latencyMs = performance.now() - started;
    const err = e as OutboundError;
    record.error = err.kind === 'network' ? `network error: ${err.message}` : err.message;
    // A refused destination will be refused again: no retry, straight to an operator.
    return { outcome: { kind: 'unreachable', error: record.error, ...(err.kind === 'refused' ? { final: true } : {}) }, record };
  }
}

function asResult(body: unknown, ticketId: string): CallOutcome | undefined {
  const b = body as { ticket_id?: unknown; result?: unknown; msg?: unknown; error?: unknown } | undefined;
  if (!b || typeof b !== 'object' || typeof b.result !== 'boolean' || b.ticket_id !== ticketId) return undefined;
  return { kind: 'result', result: b.result, msg: typeof b.msg === 'string' ? b.msg : undefined, error: typeof b.error === 'string' ? b.error : undefined };
}

function redact(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, k === SIGNATURE_HEADER || k === SIGNATURE_V11_HEADER ? '[redacted]' : v]));
}

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? null;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function retryAfterMs(value: string | null): number | undefined {
  if (!value || !/^\d+$/.test(value)) return undefined;
  return Math.min(Number(value), 3600) * 1000;
}
