/**
 * Ticketflow request signatures (business contract v1), dependency-free so business services can copy or import it.
 *
 *   X-Ticketflow-Timestamp: <unix seconds>
 *   X-Ticketflow-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * Ticketflow signs every call to a business endpoint this way; business services sign their async callbacks
 * (and ticket API calls) the same way. Always verify over the raw body bytes, before parsing them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-ticketflow-timestamp';
export const SIGNATURE_HEADER = 'x-ticketflow-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** A signed request older or newer than this (seconds) is refused as stale. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type RawBody = string | Uint8Array;

export function computeSignature(secret: string, timestamp: string | number, rawBody: RawBody): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(rawBody);
  return `sha256=${hmac.digest('hex')}`;
}

/** The two headers to send with `rawBody`. */
export function signRequest(secret: string, rawBody: RawBody, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const timestamp = String(nowSeconds);
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: computeSignature(secret, timestamp, rawBody) };
}

export type VerifyFailure = 'missing_signature' | 'stale_timestamp' | 'bad_signature';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

export interface VerifyInput {
  /** Current secret, and during a rotation the previous one (`<NAME>_PREVIOUS`). */
  secrets: ReadonlyArray<string | undefined>;
  timestamp?: string;
  signature?: string;
  rawBody: RawBody;
  nowSeconds?: number;
  toleranceSeconds?: number;
}

/** Checks freshness, then compares the signature with each secret in constant time. */
export function verifyRequest(input: VerifyInput): VerifyResult {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing_signature' };
  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  const ts = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now - ts) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    return { ok: false, reason: 'stale_timestamp' };
  }
  const given = Buffer.from(signature);
  let match = false;
  for (const secret of input.secrets) {
    if (!secret) continue;
    const expected = Buffer.from(computeSignature(secret, timestamp, input.rawBody));
    // Evaluate every secret so timing does not reveal which one matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) match = true;
  }
  return match ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

/** Reads the two headers from a Node/Koa/Express style header object (lower-case keys). */
export function signatureHeaders(headers: Record<string, string | string[] | undefined>): { timestamp?: string; signature?: string } {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return { timestamp: one(headers[TIMESTAMP_HEADER]), signature: one(headers[SIGNATURE_HEADER]) };
}
