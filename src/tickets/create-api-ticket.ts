import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { openApiTicket } from '../engine/machine.ts';
import type { Logger } from '../log.ts';
import { parseDuration } from '../pipeline/duration.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import type { Provider } from '../providers/provider.ts';
import type { CheckSettled } from '../store/check-settled.ts';
import { findApiRequest } from '../store/sql/find-api-request.ts';
import { getDefinitionCheck } from '../store/sql/get-definition-check.ts';
import { pausedBy } from '../doctor/drift.ts';
import { ApiFields } from './api-fields.ts';
import { newTicketId, type StoredTicket, type Tickets } from './tickets.ts';

export interface CreateRequest {
  idempotencyKey: string;
  rawBody: Buffer;
  fields: unknown;
  originator?: { user_id?: unknown; mobile?: unknown };
}

/** What became of a create request; `refused` carries the reason for the caller, `code` naming it. */
export type CreateOutcome =
  | { kind: 'created'; ticket: StoredTicket }
  | { kind: 'repeat'; ticket: StoredTicket }
  | { kind: 'refused'; code: RefusalCode; message: string };

export type RefusalCode = 'idempotency_key_reused' | 'idempotency_key_in_flight' | 'invalid_fields' | 'provider_unavailable' | 'im_unavailable' | 'unknown_originator' | 'originator_required' | 'pipeline_paused';

/** The longest a create request waits for its sync check. */
const WAIT_AT_MOST_MS = 30_000;
const REREAD_EVERY_MS = 1_000;

/**
 * Tickets born in a business system (`origin: api`): validated against the pipeline's fields, deduplicated by
 * Idempotency-Key, opened with their check call (or IM instance) as effect; a sync check's outcome is waited for
 * within the call's own time, so the caller learns it in the answer.
 */
export class ApiTickets {
  private readonly fields = new ApiFields();

  constructor(
    private readonly deps: { pool: Pool; tickets: Tickets; providers: Partial<Record<string, Provider>>; checkSettled: CheckSettled; log: Logger },
  ) {}

  async create(pipeline: Pipeline, request: CreateRequest): Promise<CreateOutcome> {
    const bodyHash = createHash('sha256').update(request.rawBody).digest('hex');
    const repeat = await findApiRequest(this.deps.pool, pipeline.metadata.name, request.idempotencyKey);
    if (repeat) {
      if (repeat.bodyHash !== bodyHash) return refused('idempotency_key_reused', 'this Idempotency-Key was used with a different body');
      return { kind: 'repeat', ticket: (await this.deps.tickets.get(repeat.ticketId))! };
    }
    // Under maintenance (on_drift: pause and its IM definition drifted): nothing is opened, the business not called.
    if (pipeline.on_drift === 'pause' && pausedBy(await getDefinitionCheck(this.deps.pool, pipeline.metadata.name), pipeline)) {
      return refused('pipeline_paused', `pipeline ${pipeline.metadata.name} is paused for maintenance: its ${pipeline.provider.type} approval definition no longer matches it and is being fixed; retry later, same key and body`);
    }
    const problems = this.fields.problems(pipeline, request.fields);
    if (problems.length) return refused('invalid_fields', problems.join('; '));
    const provider = this.deps.providers[pipeline.provider.type];
    if (!provider?.createInstance) return refused('provider_unavailable', `${pipeline.provider.type} is not configured here`);
    const originator = await this.originator(provider, request.originator);
    if (typeof originator !== 'string') return originator;

    const opened = openApiTicket({ id: newTicketId(), pipeline, provider: provider.type, applicant: { user_id: originator }, fields: request.fields as Record<string, unknown> });
    const check = pipeline.stages.check;
    // Listening before the check can end, so its end is heard.
    const watch = check?.mode === 'sync' ? await this.deps.checkSettled.watch(opened.ticket.id) : undefined;
    try {
      let ticket = await this.deps.tickets.openFromApi(opened, { pipeline: pipeline.metadata.name, idempotencyKey: request.idempotencyKey, bodyHash }, { originator }, pipeline);
      if (ticket === 'key_in_flight') return refused('idempotency_key_in_flight', 'a request with this Idempotency-Key is being handled; retry it');
      this.deps.log.info({ ticket: ticket.id, pipeline: pipeline.metadata.name }, 'ticket created through the API');
      if (!watch) return { kind: 'created', ticket };
      const until = Date.now() + Math.min(WAIT_AT_MOST_MS, parseDuration(check!.timeout ?? '10s') + 2_000);
      // Woken by the notification; the re-read each second covers a listening connection that died silently.
      while (ticket.state === 'checking' && Date.now() < until) {
        await watch.settled(Math.min(REREAD_EVERY_MS, until - Date.now()));
        ticket = (await this.deps.tickets.get(ticket.id)) ?? ticket;
      }
      return { kind: 'created', ticket };
    } finally {
      watch?.done();
    }
  }

  private async originator(provider: Provider, o: CreateRequest['originator']): Promise<string | CreateOutcome> {
    if (typeof o?.user_id === 'string' && o.user_id) return o.user_id;
    if (typeof o?.mobile !== 'string' || !o.mobile) return refused('originator_required', 'originator must be {"user_id": …} or {"mobile": …}');
    let userId: string | undefined;
    try {
      userId = await provider.userIdByMobile?.(o.mobile);
    } catch (e) {
      this.deps.log.warn({ err: (e as Error).message }, 'mobile lookup failed');
      return refused('im_unavailable', `could not look the mobile number up in ${provider.type}; retry later`);
    }
    return userId || refused('unknown_originator', `no ${provider.type} user with mobile ${o.mobile}`);
  }
}

const refused = (code: RefusalCode, message: string): CreateOutcome => ({ kind: 'refused', code, message });
