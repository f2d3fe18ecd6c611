import type { TicketEvent } from '../engine/events.ts';
import type { Stage } from '../engine/ticket.ts';
import { OutboundError, outboundRequest, type OutboundPolicy } from './outbound.ts';
import { parseResultObject } from './result.ts';
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
      const outcome = replyOutcome(body, input.mode, input.ticketId);
      if (outcome.kind === 'unreachable') record.error = outcome.error;
      return { outcome, record };
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

/** What a 2xx reply (its parsed body) means: accepted (async), or the decision when it is a result object for this ticket. */
export function replyOutcome(body: unknown, mode: 'sync' | 'async', ticketId: string): CallOutcome {
  if (mode === 'async') return { kind: 'accepted' };
  const r = parseResultObject(body);
  if (!r || r.ticket_id !== ticketId) return { kind: 'unreachable', error: 'the reply is not a result object {ticket_id, result, msg, error} for this ticket' };
  return { kind: 'result', result: r.result, msg: r.msg, error: r.error };
}

/** The ticket event a call's outcome is; an accepted async call waits for its callback until `deadlineAt`. */
export function outcomeEvent(stage: Stage, attempt: number, outcome: CallOutcome, deadlineAt: () => string): TicketEvent {
  if (outcome.kind === 'result') return { type: 'business_result', stage, result: outcome.result, msg: outcome.msg, error: outcome.error, via: 'reply' };
  if (outcome.kind === 'accepted') return { type: 'business_accepted', stage, deadlineAt: deadlineAt() };
  return { type: 'business_unreachable', stage, attempt, error: outcome.error, retryInMs: outcome.retryInMs, final: outcome.final === true };
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
