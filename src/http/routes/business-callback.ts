import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { IDEMPOTENCY_HEADER } from '../../business/signature.ts';
import { idempotencyKey } from '../../business/request.ts';
import { parseResultObject, type ResultObject } from '../../business/result.ts';
import type { Stage } from '../../engine/ticket.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { getTicket } from '../../store/sql/get-ticket.ts';
import type { StoredTicket } from '../../store/sql/ticket-row.ts';
import type { AppDeps } from '../deps.ts';
import { jsonBody, rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { liveSecrets, refusalMessage, secretsOf, signatureVersion, verifySigned, type SignatureVersion } from '../signed-request.ts';

/** A result object with room for long messages; every callback is verified against several secrets. */
const CALLBACK_LIMIT = 64 << 10;

/**
 * Async results from business services (business contract v1.1), on /api/v1/callback/{check,execute} and the
 * lark-ticket paths /api/v1/lark/{check,execute}/callback. A callback answers one call: signed (v1.1) over this
 * path, with the Idempotency-Key `<ticket_id>:<stage>` of that call, by the pipeline's current or previous
 * secret, fresh within 300 s. Nothing about a ticket is revealed to a request no pipeline's secret signed.
 */
export function businessCallbackRoutes(router: Router, deps: AppDeps): void {
  const { log, metrics, pool, versions, config } = deps;
  const decoys = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];

  const refused = (stage: Stage, reason: string, message: string) => {
    metrics.eventsRefused.inc({ provider: 'business', reason });
    log.warn({ stage, reason }, 'business callback refused');
    return new HttpError(401, reason, message);
  };

  /** The callback's ticket and pipeline, once a secret that may speak for them signed it; 401 before anything is told. */
  const authenticate = async (ctx: Context, stage: Stage) => {
    const version = signatureVersion(ctx);
    if (!version) throw refused(stage, 'missing_signature', refusalMessage.missing_signature);
    const signedByAPipeline = verifySigned(ctx, liveSecrets(deps), config.publicUrl);
    if (!signedByAPipeline.ok && signedByAPipeline.reason !== 'bad_signature') throw refused(stage, signedByAPipeline.reason, refusalMessage[signedByAPipeline.reason]);
    const body = parseResult(ctx);
    const ticket = body ? await getTicket(pool, body.ticket_id) : undefined;
    const pipeline = ticket ? await versions.get(ticket.pipeline.name, ticket.pipeline.version) : undefined;
    // A ticket of a pipeline no longer live is verified against its own secret; an unknown one against decoys, in the same time.
    const signedForTicket = verifySigned(ctx, pipeline ? secretsOf(deps, pipeline) : decoys, config.publicUrl).ok;
    if (!signedForTicket && !signedByAPipeline.ok) throw refused(stage, 'bad_signature', refusalMessage.bad_signature);
    if (!body) throw new HttpError(400, 'malformed_result', 'the body must be a JSON object {"ticket_id": string, "result": boolean, "msg"?: string, "error"?: string}, storable (no NUL character)');
    // Signed with another pipeline's secret: that caller learns no more about this ticket than about a missing one.
    if (!ticket || !pipeline || !signedForTicket) throw new HttpError(404, 'unknown_ticket', `no ticket ${body.ticket_id} for this signing secret`);
    return { version, body, ticket, pipeline };
  };

  /** A callback applies to the call it answers only: the stage of its path, the Idempotency-Key of that call. */
  const bindToCall = (ctx: Context, stage: Stage, version: SignatureVersion, ticket: StoredTicket, pipeline: Pipeline) => {
    const key = idempotencyKey(ticket.id, stage);
    if (version === 'v1.1') {
      if (ctx.get(IDEMPOTENCY_HEADER) !== key) throw new HttpError(400, 'wrong_idempotency_key', `a ${stage} callback carries the Idempotency-Key of the ${stage} call it answers: ${key}`);
      return;
    }
    // v1 signs no stage: taken only where the pipeline has no other stage the callback could be meant for.
    const asyncStages = (['check', 'execute'] as const).filter((s) => pipeline.stages[s]?.mode === 'async');
    if (asyncStages.length !== 1 || asyncStages[0] !== stage) {
      throw refused(stage, 'signature_v1_refused', `a v1 signature does not bind a callback to its stage: sign it v1.1 (X-Ticketflow-Signature-V11, with Idempotency-Key: ${key})`);
    }
    log.warn({ ticket: ticket.id, stage, pipeline: pipeline.metadata.name }, 'business callback signed v1 (deprecated): sign callbacks v1.1');
  };

  const handler = (stage: Stage) => async (ctx: Context) => {
    const { version, body, ticket, pipeline } = await authenticate(ctx, stage);
    bindToCall(ctx, stage, version, ticket, pipeline);
    const result = { result: body.result, msg: body.msg, error: body.error };
    const outcome = await deps.tickets.apply(ticket, { type: 'business_result', stage, ...result, via: 'callback' }, pipeline, 'business');
    if (!outcome.changed) {
      const known = ticket.results[stage] ?? outcome.ticket.results[stage];
      const repeat = known && known.result === result.result && (known.msg ?? undefined) === result.msg && (known.error ?? undefined) === result.error;
      if (!repeat) throw new HttpError(409, 'not_waiting', `ticket ${ticket.id} is ${outcome.ticket.state}, not waiting for a ${stage} result`);
    }
    ctx.body = { ticket_id: ticket.id, state: outcome.ticket.state };
  };
  for (const stage of ['check', 'execute'] as const) {
    router.post(`/api/v1/callback/${stage}`, rawBody(CALLBACK_LIMIT), handler(stage));
    router.post(`/api/v1/lark/${stage}/callback`, rawBody(CALLBACK_LIMIT), handler(stage));
  }
}

function parseResult(ctx: Context): ResultObject | undefined {
  try {
    return parseResultObject(jsonBody(ctx));
  } catch {
    return undefined;
  }
}
