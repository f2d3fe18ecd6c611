import type Router from '@koa/router';
import { signatureHeaders, verifyRequest } from '../../business/signature.ts';
import type { Stage } from '../../engine/ticket.ts';
import { inTransaction } from '../../jobs/transaction.ts';
import { applyEvent } from '../../tickets/apply.ts';
import { getTicket, lockTicket } from '../../store/sql/tickets.ts';
import type { AppDeps } from '../app.ts';
import { jsonBody, rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';

/**
 * Async results from business services (business contract §1), on /api/v1/callback/{check,execute} and the
 * lark-ticket paths /api/v1/lark/{check,execute}/callback. Signed like our calls, with the pipeline's current
 * or previous secret, and fresh within 300 s.
 */
export function businessCallbackRoutes(router: Router, deps: AppDeps): void {
  const { log, metrics, pool, versions } = deps;
  const handler = (stage: Stage) => async (ctx: import('koa').Context) => {
    const { timestamp, signature } = signatureHeaders(ctx.headers);
    if (!timestamp || !signature) throw new HttpError(401, 'missing_signature', 'X-Ticketflow-Timestamp and X-Ticketflow-Signature are required');
    const body = jsonBody(ctx);
    if (typeof body.ticket_id !== 'string' || typeof body.result !== 'boolean') {
      throw new HttpError(400, 'malformed_result', 'the body must be {"ticket_id": string, "result": boolean, "msg"?: string, "error"?: string}');
    }
    const ticket = await getTicket(pool, body.ticket_id);
    if (!ticket) throw new HttpError(404, 'unknown_ticket', `no ticket ${body.ticket_id}`);
    const pipeline = await versions.get(ticket.pipeline.name, ticket.pipeline.version);
    const name = pipeline.secret_env;
    const verdict = verifyRequest({ secrets: [deps.secret(name), deps.secret(`${name}_PREVIOUS`)], timestamp, signature, rawBody: ctx.request.rawBody });
    if (!verdict.ok) {
      metrics.eventsRefused.inc({ provider: 'business', reason: verdict.reason });
      log.warn({ ticket: ticket.id, stage, reason: verdict.reason }, 'business callback refused');
      throw new HttpError(401, verdict.reason, verdict.reason === 'stale_timestamp' ? 'the timestamp is more than 300 s from ours' : 'the signature does not match');
    }
    const result = { result: body.result, msg: typeof body.msg === 'string' ? body.msg : undefined, error: typeof body.error === 'string' ? body.error : undefined };
    const outcome = await inTransaction(pool, async (client) => {
      const locked = await lockTicket(client, ticket.id);
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
    router.post(`/api/v1/callback/${stage}`, rawBody(1 << 20), handler(stage));
    router.post(`/api/v1/lark/${stage}/callback`, rawBody(1 << 20), handler(stage));
  }
}
