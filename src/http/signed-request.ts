import type { Context } from 'koa';
import { signatureHeaders, verifyRequest, verifyRequestV11, type VerifyResult } from '../business/signature.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import type { AppDeps } from './deps.ts';

export type SignatureVersion = 'v1.1' | 'v1';

/** The signature a request carries: v1.1 whenever its header is there (a v1 header beside it is then ignored). */
export function signatureVersion(ctx: Context): SignatureVersion | undefined {
  const h = signatureHeaders(ctx.headers);
  if (!h.timestamp) return undefined;
  if (h.signatureV11) return 'v1.1';
  return h.signature ? 'v1' : undefined;
}

/**
 * Verifies the request's signature against `secrets`. The signed path may carry the path of PUBLIC_URL in
 * front of ours (a proxy that strips it), so both forms are accepted.
 */
export function verifySigned(ctx: Context, secrets: ReadonlyArray<string | undefined>, publicUrl: string, rawBody: Buffer = ctx.request.rawBody): VerifyResult {
  const h = signatureHeaders(ctx.headers);
  if (signatureVersion(ctx) === 'v1') return verifyRequest({ secrets, timestamp: h.timestamp, signature: h.signature, rawBody });
  const prefix = new URL(publicUrl).pathname.replace(/\/+$/, '');
  const paths = prefix ? [ctx.originalUrl, `${prefix}${ctx.originalUrl}`] : [ctx.originalUrl];
  return verifyRequestV11({ secrets, method: ctx.method, path: paths, idempotencyKey: h.idempotencyKey, timestamp: h.timestamp, signatureV11: h.signatureV11, rawBody });
}

/** A pipeline's signing secrets: the current one and, during a rotation, `<NAME>_PREVIOUS`. */
export function secretsOf(deps: Pick<AppDeps, 'secret'>, pipeline: Pipeline): Array<string | undefined> {
  return [deps.secret(pipeline.secret_env), deps.secret(`${pipeline.secret_env}_PREVIOUS`)];
}

/** The secrets of every live pipeline: a request none of them signed learns nothing from us but 401. */
export function liveSecrets(deps: Pick<AppDeps, 'secret' | 'registry'>): Array<string | undefined> {
  const names = new Set(deps.registry.pipelines().map((p) => p.pipeline.secret_env));
  return [...names].flatMap((name) => [deps.secret(name), deps.secret(`${name}_PREVIOUS`)]);
}

export const refusalMessage: Record<Exclude<VerifyResult, { ok: true }>['reason'], string> = {
  missing_signature: 'sign the request (business contract v1.1: X-Ticketflow-Timestamp, X-Ticketflow-Signature-V11)',
  stale_timestamp: 'the timestamp is more than 300 s from ours',
  bad_signature: 'the signature does not match',
};
