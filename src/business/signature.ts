/**
 * Ticketflow request signatures (business contract v1.1), dependency-free so business services can copy or import it.
 *
 *   X-Ticketflow-Timestamp: <unix seconds>
 *   X-Ticketflow-Signature-V11: sha256=<hex HMAC-SHA256(secret, "v1.1\n<timestamp>\n<METHOD>\n<path>\n<key>\n<hex SHA-256(raw body)>")>
 *
 * <path> is the request target, path and query as sent (`/api/v1/callback/check`); <key> is the Idempotency-Key
 * header, empty when the request has none. A signature is thus good for one request only: not for another
 * path (another stage, another ticket), another method, nor another Idempotency-Key.
 *
 * Ticketflow signs every call to a business endpoint this way; business services sign their async callbacks
 * (with the Idempotency-Key of the call they answer) and ticket API calls the same way. Always verify over the
 * raw body bytes, before parsing them.
 *
 * v1 (deprecated) signed the timestamp and body only: `X-Ticketflow-Signature: sha256=<hex HMAC-SHA256(secret,
 * "<timestamp>.<raw body>")>`. Ticketflow still sends it beside the v1.1 header until business services have
 * moved to `verifyRequestV11`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-ticketflow-timestamp';
export const SIGNATURE_V11_HEADER = 'x-ticketflow-signature-v11';
/** v1 (deprecated). */
export const SIGNATURE_HEADER = 'x-ticketflow-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** A signed request older or newer than this (seconds) is refused as stale. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type RawBody = string | Uint8Array;

export interface RequestToSign {
  method: string;
  /** The request target (`/api/v1/callback/check?x=1`), or the whole URL the request goes to. */
  path: string;
  idempotencyKey?: string;
  rawBody: RawBody;
}

/** The request target of a path or of a whole URL: path and query. */
export function requestTarget(pathOrUrl: string): string {
  if (!/^https?:\/\//i.test(pathOrUrl)) return pathOrUrl;
  const url = new URL(pathOrUrl);
  return `${url.pathname}${url.search}`;
}

const bodyDigest = (rawBody: RawBody) => createHash('sha256').update(rawBody).digest('hex');
const canonicalV11 = (timestamp: string | number, r: Omit<RequestToSign, 'rawBody'>, digest: string) =>
  ['v1.1', String(timestamp), r.method.toUpperCase(), requestTarget(r.path), r.idempotencyKey ?? '', digest].join('\n');
const hmacV11 = (secret: string, canonical: string) => `sha256=${createHmac('sha256', secret).update(canonical).digest('hex')}`;

export function computeSignatureV11(secret: string, timestamp: string | number, request: RequestToSign): string {
  return hmacV11(secret, canonicalV11(timestamp, request, bodyDigest(request.rawBody)));
}

/**
 * The headers to send with the request (the Idempotency-Key itself is yours to send). `withV1` adds the
 * deprecated v1 header, for receivers that may not verify v1.1 yet: never on requests to Ticketflow, which
 * verifies v1.1, and where a v1 header beside it is a replayable form one could strip it down to.
 */
export function signRequestV11(secret: string, request: RequestToSign, options: { nowSeconds?: number; withV1?: boolean } = {}): Record<string, string> {
  const timestamp = String(options.nowSeconds ?? Math.floor(Date.now() / 1000));
  return {
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_V11_HEADER]: computeSignatureV11(secret, timestamp, request),
    ...(options.withV1 ? { [SIGNATURE_HEADER]: computeSignature(secret, timestamp, request.rawBody) } : {}),
  };
}

export type VerifyFailure = 'missing_signature' | 'stale_timestamp' | 'bad_signature';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

export interface VerifyInputV11 {
  /** Current secret, and during a rotation the previous one (`<NAME>_PREVIOUS`). */
  secrets: ReadonlyArray<string | undefined>;
  method: string;
  /** The request target as received (Node: `req.url`); several when a proxy in front rewrites the path. */
  path: string | readonly string[];
  idempotencyKey?: string;
  timestamp?: string;
  signatureV11?: string;
  rawBody: RawBody;
  nowSeconds?: number;
  toleranceSeconds?: number;
}

/** Checks freshness, then compares the v1.1 signature with each secret (and path) in constant time. */
export function verifyRequestV11(input: VerifyInputV11): VerifyResult {
  const { timestamp, signatureV11 } = input;
  if (!timestamp || !signatureV11) return { ok: false, reason: 'missing_signature' };
  if (!fresh(timestamp, input.nowSeconds, input.toleranceSeconds)) return { ok: false, reason: 'stale_timestamp' };
  const digest = bodyDigest(input.rawBody);
  const canonicals = (typeof input.path === 'string' ? [input.path] : input.path).map((path) => canonicalV11(timestamp, { ...input, path }, digest));
  const candidates = input.secrets.flatMap((secret) => (secret ? canonicals.map((canonical) => hmacV11(secret, canonical)) : []));
  return matchesAny(signatureV11, candidates) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

/** Reads the headers from a Node/Koa/Express style header object (lower-case keys). */
export function signatureHeaders(headers: Record<string, string | string[] | undefined>): { timestamp?: string; signatureV11?: string; signature?: string; idempotencyKey?: string } {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  return { timestamp: one(headers[TIMESTAMP_HEADER]), signatureV11: one(headers[SIGNATURE_V11_HEADER]), signature: one(headers[SIGNATURE_HEADER]), idempotencyKey: one(headers[IDEMPOTENCY_HEADER]) };
}

/** @deprecated v1: binds the timestamp and body only, so it can be replayed to another path or with another key. */
export function computeSignature(secret: string, timestamp: string | number, rawBody: RawBody): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(rawBody);
  return `sha256=${hmac.digest('hex')}`;
}

/** @deprecated v1: use `signRequestV11`. */
export function signRequest(secret: string, rawBody: RawBody, nowSeconds = Math.floor(Date.now() / 1000)): Record<string, string> {
  const timestamp = String(nowSeconds);
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: computeSignature(secret, timestamp, rawBody) };
}

export interface VerifyInput {
  secrets: ReadonlyArray<string | undefined>;
  timestamp?: string;
  signature?: string;
  rawBody: RawBody;
  nowSeconds?: number;
  toleranceSeconds?: number;
}

/** @deprecated v1: use `verifyRequestV11`. */
export function verifyRequest(input: VerifyInput): VerifyResult {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing_signature' };
  if (!fresh(timestamp, input.nowSeconds, input.toleranceSeconds)) return { ok: false, reason: 'stale_timestamp' };
  const candidates = input.secrets.flatMap((secret) => (secret ? [computeSignature(secret, timestamp, input.rawBody)] : []));
  return matchesAny(signature, candidates) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

function fresh(timestamp: string, nowSeconds = Math.floor(Date.now() / 1000), toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): boolean {
  return /^\d{1,12}$/.test(timestamp) && Math.abs(nowSeconds - Number(timestamp)) <= toleranceSeconds;
}

function matchesAny(signature: string, candidates: readonly string[]): boolean {
  const given = Buffer.from(signature);
  let match = false;
  // Compare with every candidate so timing does not reveal which one matched.
  for (const candidate of candidates) {
    const expected = Buffer.from(candidate);
    if (expected.length === given.length && timingSafeEqual(expected, given)) match = true;
  }
  return match;
}
