import type { Pool, PoolClient } from 'pg';
import type { ApiRequest } from './claim-api-request.ts';

/** The create request already made with this Idempotency-Key, if any. */
export async function findApiRequest(db: Pool | PoolClient, pipeline: string, idempotencyKey: string): Promise<ApiRequest | undefined> {
  const { rows } = await db.query<{ body_hash: string; ticket_id: string }>('SELECT body_hash, ticket_id FROM api_requests WHERE pipeline_name = $1 AND idempotency_key = $2', [pipeline, idempotencyKey]);
  return rows[0] && { pipeline, idempotencyKey, bodyHash: rows[0].body_hash, ticketId: rows[0].ticket_id };
}
