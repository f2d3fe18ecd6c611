import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { ApiTickets, type RefusalCode } from '../../tickets/create-api-ticket.ts';
import type { StoredTicket } from '../../tickets/tickets.ts';
import type { AppDeps } from '../deps.ts';
import { jsonBody, rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { liveSecrets, refusalMessage, secretsOf, signatureVersion, verifySigned } from '../signed-request.ts';
import { summary } from './admin-api.ts';

const refusalStatus: Record<RefusalCode, number> = {
  idempotency_key_reused: 409,
  idempotency_key_in_flight: 409,
  invalid_fields: 422,
  provider_unavailable: 422,
  im_unavailable: 503,
  unknown_originator: 422,
  originator_required: 422,
  pipeline_paused: 503,
};

/** What a paused pipeline's 503 suggests: a hint; the pause lifts as soon as a check finds the definition fixed. */
const PAUSED_RETRY_AFTER_SECONDS = 300;

/**
 * Tickets born in a business system (`origin: api`), signed like the business contract: create one (check first;
 * a rejection is 422 and creates nothing in the IM), and read its state.
 */
export function apiTicketRoutes(router: Router, deps: AppDeps): void {
  const { registry, tickets } = deps;
  const apiTickets = new ApiTickets(deps);

  /**
   * The pipeline of the path, for a request its secret signed (v1.1 only: a v1 signature covers neither the path,
   * which ticket, nor the Idempotency-Key, which create). Whether a pipeline exists is told to signed callers only.
   */
  const authenticatedPipeline = (ctx: Context, body: Buffer): Pipeline => {
    if (signatureVersion(ctx) === 'v1') throw new HttpError(401, 'signature_v1_refused', 'the ticket API takes v1.1 signatures only (X-Ticketflow-Signature-V11 over method, path, Idempotency-Key and body)');
    const live = registry.get(ctx.params.name!);
    const pipeline = live?.pipeline.origin === 'api' ? live.pipeline : undefined;
    const verdict = verifySigned(ctx, pipeline ? secretsOf(deps, pipeline) : liveSecrets(deps), deps.config.publicUrl, body);
    if (!verdict.ok) throw new HttpError(401, verdict.reason, refusalMessage[verdict.reason]);
    if (!pipeline) throw new HttpError(404, 'unknown_pipeline', `no pipeline ${ctx.params.name} that accepts tickets from a business system`);
    return pipeline;
  };

  const answer = (ctx: Context, status: number, ticket: StoredTicket) => {
    ctx.status = status;
    const s = summary(ticket);
    ctx.body = { ticket_id: s.id, pipeline: s.pipeline, state: s.state, instance_code: ticket.instanceCode.startsWith('pending:') ? null : ticket.instanceCode, results: s.results };
  };

  router.post('/api/v1/pipelines/:name/tickets', rawBody(1 << 20), async (ctx) => {
    const pipeline = authenticatedPipeline(ctx, ctx.request.rawBody);
    const key = ctx.get('idempotency-key');
    if (!key) throw new HttpError(400, 'idempotency_key_required', 'send an Idempotency-Key header: the same key twice creates one ticket');
    const body: { fields?: unknown; originator?: { user_id?: unknown; mobile?: unknown } } = jsonBody(ctx);
    const outcome = await apiTickets.create(pipeline, { idempotencyKey: key, rawBody: ctx.request.rawBody, fields: body.fields, originator: body.originator });
    if (outcome.kind === 'refused') {
      if (outcome.code === 'pipeline_paused') ctx.set('retry-after', String(PAUSED_RETRY_AFTER_SECONDS));
      throw new HttpError(refusalStatus[outcome.code], outcome.code, outcome.message);
    }
    if (outcome.kind === 'repeat') return answer(ctx, 200, outcome.ticket);
    const { ticket } = outcome;
    if (ticket.state === 'rejected_by_check') {
      ctx.status = 422;
      ctx.body = { error: { code: 'check_failed', message: ticket.results.check?.error ?? 'the check rejected the request' }, ticket_id: ticket.id, state: ticket.state };
      return;
    }
    // 201 once the ticket is past its check (or has none); 202 while the check is still under way.
    const check = pipeline.stages.check;
    return answer(ctx, !check || ticket.results.check?.result === true ? 201 : 202, ticket);
  });

  router.get('/api/v1/pipelines/:name/tickets/:id', async (ctx) => {
    const pipeline = authenticatedPipeline(ctx, Buffer.alloc(0));
    const ticket = /^[\w-]{1,128}$/.test(ctx.params.id!) ? await tickets.get(ctx.params.id!) : undefined;
    if (!ticket || ticket.pipeline.name !== pipeline.metadata.name) throw new HttpError(404, 'unknown_ticket', `no ticket ${ctx.params.id} in ${pipeline.metadata.name}`);
    answer(ctx, 200, ticket);
  });
}
