import { randomBytes } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { IDEMPOTENCY_HEADER } from '../../business/signature.ts';
import { idempotencyKey } from '../../business/request.ts';
import type { Stage } from '../../engine/ticket.ts';
import { inTransaction } from '../../jobs/transaction.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { applyEvent } from '../../tickets/apply.ts';
import { getTicket, lockTicket, type StoredTicket } from '../../store/sql/tickets.ts';
import type { AppDeps } from '../app.ts';
import { rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { refusalMessage, signatureVersion, verifySigned } from '../signed-request.ts';

/** A result object with room for long messages; every callback is verified against several secrets. */
const CALLBACK_LIMIT = 64 << 10;

/**
 * Async results from business services (business contract v1.1), on /api/v1/callback/{check,execute} and the
 * lark-ticket paths /api/v1/lark/{check,execute}/callback. A callback answers one call: signed (v1.1) over this
 * path, with the Idempotency-Key `<ticket_id>:<stage>` of that call, by the pipeline's current or previous
 * secret, fresh within 300 s. Nothing about a ticket is revealed to a request no pipeline's secret signed.
 */
export function businessCallbackRoutes(router: Router, deps: AppDeps): void {
  const { log, metrics, pool, versions, registry, config } = deps;
  const secretsOf = (p: Pipeline) => [deps.secret(p.secret_env), deps.secret(`${p.secret_env}_PREVIOUS`)];
  const liveSecrets = () => [...new Set(registry.pipelines().map((p) => p.pipeline.secret_env))].flatMap((env) => [deps.secret(env), deps.secret(`${env}_PREVIOUS`)]);
  const decoys = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];

  const refused = (stage: Stage, reason: string, message: string) => {
    metrics.eventsRefused.inc({ provider: 'business', reason });
    log.warn({ stage, reason }, 'business callback refused');
    return new HttpError(401, reason, message);
  };

  const handler = (stage: Stage) => async (ctx: Context) => {
    const version = signatureVersion(ctx);
    if (!version) throw refused(stage, 'missing_signature', refusalMessage.missing_signature);
    const signedByAPipeline = verifySigned(ctx, liveSecrets(), config.publicUrl);
    if (!signedByAPipeline.ok && signedByAPipeline.reason !== 'bad_signature') throw refused(stage, signedByAPipeline.reason, refusalMessage[signedByAPipeline.reason]);

    const body = parseResult(ctx.request.rawBody);
    let ticket: StoredTicket | undefined;
    let pipeline: Pipeline | undefined;
    if (body) {
      ticket = await getTicket(pool, body.ticket_id);
      if (ticket) pipeline = await versions.get(ticket.pipeline.name, ticket.pipeline.version);
    }
    const signedForTicket = verifySigned(ctx, pipeline ? secretsOf(pipeline) : decoys, config.publicUrl).ok;
    if (!signedForTicket && !signedByAPipeline.ok) throw refused(stage, 'bad_signature', refusalMessage.bad_signature);
    if (!body) throw new HttpError(400, 'malformed_result', 'the body must be {"ticket_id": string, "result": boolean, "msg"?: string, "error"?: string}');
    // Signed by another pipeline's secret: that caller learns no more about this ticket than about a missing one.
    if (!ticket || !pipeline || !signedForTicket) throw new HttpError(404, 'unknown_ticket', `no ticket ${body.ticket_id} for this signing secret`);

    if (version === 'v1') {
      // A v1 signature does not say which stage it answers: taken only where the pipeline has no other stage it could answer.
      const asyncStages = (['check', 'execute'] as const).filter((s) => pipeline.stages[s]?.mode === 'async');
      if (asyncStages.length !== 1 || asyncStages[0] !== stage) {
        throw refused(stage, 'signature_v1_refused', `a v1 signature does not bind a callback to its stage; sign it v1.1 (X-Ticketflow-Signature-V11, with Idempotency-Key: ${idempotencyKey(ticket.id, stage)})`);
      }
      log.warn({ ticket: ticket.id, stage, pipeline: pipeline.metadata.name }, 'business callback signed v1 (deprecated): sign callbacks v1.1');
    } else if (ctx.get(IDEMPOTENCY_HEADER) !== idempotencyKey(ticket.id, stage)) {
      throw new HttpError(400, 'wrong_idempotency_key', `a ${stage} callback carries the Idempotency-Key of the ${stage} call it answers: ${idempotencyKey(ticket.id, stage)}`);
    }

    const result = { result: body.result, msg: body.msg, error: body.error };
    const found = ticket;
    const outcome = await inTransaction(pool, async (client) => {
      const locked = await lockTicket(client, found.id);
      return applyEvent(client, locked!, { type: 'business_result', stage, ...result, via: 'callback' }, pipeline, 'business');
    });
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

function parseResult(raw: Buffer): { ticket_id: string; result: boolean; msg?: string; error?: string } | undefined {
  let b: { ticket_id?: unknown; result?: unknown; msg?: unknown; error?: unknown };
  try {
    b = JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof b !== 'object' || b === null || typeof b.ticket_id !== 'string' || typeof b.result !== 'boolean') return undefined;
  return { ticket_id: b.ticket_id, result: b.result, msg: typeof b.msg === 'string' ? b.msg : undefined, error: typeof b.error === 'string' ? b.error : undefined };
}
