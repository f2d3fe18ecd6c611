import { createHash } from 'node:crypto';
import type Router from '@koa/router';
import AjvModule, { type ValidateFunction } from 'ajv';
import type { Context } from 'koa';
import { openApiTicket } from '../../engine/machine.ts';
import { newTicketId } from '../../jobs/tasks/process-event.ts';
import { inTransaction, scheduleJob } from '../../jobs/transaction.ts';
import { parseDuration } from '../../pipeline/duration.ts';
import { pascalCase, pipelineClientSchema } from '../../pipeline/client-types.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { appendAudit, getTicket, insertTicket, type StoredTicket } from '../../store/sql/tickets.ts';
import { jobFor } from '../../tickets/apply.ts';
import type { AppDeps } from '../deps.ts';
import { jsonBody, rawBody } from '../body.ts';
import { HttpError } from '../errors.ts';
import { liveSecrets, refusalMessage, secretsOf, signatureVersion, verifySigned } from '../signed-request.ts';
import { summary } from './admin-api.ts';

const Ajv = AjvModule.default ?? AjvModule;

/**
 * Tickets born in a business system (`origin: api`), signed like the business contract: create one (check first;
 * a rejection is 422 and creates nothing in the IM), and read its state.
 */
export function apiTicketRoutes(router: Router, deps: AppDeps): void {
  const { pool, registry, log } = deps;
  const validators = new Map<string, ValidateFunction>();
  const fieldsValidator = (p: Pipeline) => {
    const key = `${p.metadata.name}@${p.metadata.version}`;
    let v = validators.get(key);
    if (!v) {
      const schema = pipelineClientSchema(p) as { definitions: Record<string, unknown> };
      v = new Ajv({ allErrors: true, strict: false }).compile({ ...(schema.definitions[`${pascalCase(p.metadata.name)}Fields`] as object), definitions: schema.definitions });
      validators.set(key, v);
    }
    return v;
  };

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
    const hash = createHash('sha256').update(ctx.request.rawBody).digest('hex');
    const repeat = await pool.query('SELECT body_hash, ticket_id FROM api_requests WHERE pipeline_name = $1 AND idempotency_key = $2', [pipeline.metadata.name, key]);
    if (repeat.rows[0]) {
      if (repeat.rows[0].body_hash !== hash) throw new HttpError(409, 'idempotency_key_reused', 'this Idempotency-Key was used with a different body');
      return answer(ctx, 200, (await getTicket(pool, repeat.rows[0].ticket_id))!);
    }
    const validate = fieldsValidator(pipeline);
    if (typeof body.fields !== 'object' || body.fields === null || !validate(body.fields)) {
      const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '(fields)'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`);
      throw new HttpError(422, 'invalid_fields', problems.length ? problems.join('; ') : '"fields" must be an object');
    }
    const provider = deps.providers[pipeline.provider.type];
    if (!provider?.createInstance) throw new HttpError(422, 'provider_unavailable', `${pipeline.provider.type} is not configured here`);
    let originator: string | undefined;
    if (typeof body.originator?.user_id === 'string' && body.originator.user_id) originator = body.originator.user_id;
    else if (typeof body.originator?.mobile === 'string' && body.originator.mobile) {
      try {
        originator = await provider.userIdByMobile?.(body.originator.mobile);
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'mobile lookup failed');
        throw new HttpError(503, 'im_unavailable', `could not look the mobile number up in ${pipeline.provider.type}; retry later`);
      }
      if (!originator) throw new HttpError(422, 'unknown_originator', `no ${pipeline.provider.type} user with mobile ${body.originator.mobile}`);
    } else throw new HttpError(422, 'originator_required', 'originator must be {"user_id": …} or {"mobile": …}');

    const opened = openApiTicket({ id: newTicketId(), pipeline, provider: provider.type, applicant: { user_id: originator }, fields: body.fields as Record<string, unknown> });
    const created = await inTransaction(pool, async (client) => {
      const { ticket } = await insertTicket(client, opened.ticket);
      const claimed = await client.query('INSERT INTO api_requests (pipeline_name, idempotency_key, body_hash, ticket_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING ticket_id', [pipeline.metadata.name, key, hash, ticket.id]);
      if (claimed.rowCount === 0) throw new HttpError(409, 'idempotency_key_in_flight', 'a request with this Idempotency-Key is being handled; retry it');
      await appendAudit(client, { ticketId: ticket.id, actor: 'api', event: 'ticket_opened', to: ticket.state, detail: { pipeline: ticket.pipeline, originator } });
      for (const effect of opened.effects) await scheduleJob(client, jobFor(ticket, effect));
      return ticket;
    });
    log.info({ ticket: created.id, pipeline: pipeline.metadata.name }, 'ticket created through the API');

    const check = pipeline.stages.check;
    if (!check) return answer(ctx, 201, created);
    if (check.mode === 'async') return answer(ctx, 202, created);
    // A sync check: answer with its outcome when it comes within the call's own time, else "accepted".
    const waitUntil = Date.now() + Math.min(30_000, parseDuration(check.timeout ?? '10s') + 2_000);
    let ticket = created;
    while (ticket.state === 'checking' && Date.now() < waitUntil) {
      await new Promise((r) => setTimeout(r, 25));
      ticket = (await getTicket(pool, created.id))!;
    }
    if (ticket.state === 'rejected_by_check') {
      ctx.status = 422;
      ctx.body = { error: { code: 'check_failed', message: ticket.results.check?.error ?? 'the check rejected the request' }, ticket_id: ticket.id, state: ticket.state };
      return;
    }
    return answer(ctx, ticket.results.check?.result === true ? 201 : 202, ticket);
  });

  router.get('/api/v1/pipelines/:name/tickets/:id', async (ctx) => {
    const pipeline = authenticatedPipeline(ctx, Buffer.alloc(0));
    const ticket = /^[\w-]{1,128}$/.test(ctx.params.id!) ? await getTicket(pool, ctx.params.id!) : undefined;
    if (!ticket || ticket.pipeline.name !== pipeline.metadata.name) throw new HttpError(404, 'unknown_ticket', `no ticket ${ctx.params.id} in ${pipeline.metadata.name}`);
    answer(ctx, 200, ticket);
  });
}
