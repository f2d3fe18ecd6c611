import type { Pool, PoolClient } from 'pg';

/** A create request of the ticket API, by its pipeline and Idempotency-Key. */
export interface ApiRequest {
  pipeline: string;
  idempotencyKey: string;
  /** SHA-256 of the request body: the same key with another body is refused. */
  bodyHash: string;
  ticketId: string;
}

/** Records which ticket a create request made; false when another request holds the key. */
export async function claimApiRequest(db: Pool | PoolClient, r: ApiRequest): Promise<boolean> {
  const { rowCount } = await db.query('INSERT INTO api_requests (pipeline_name, idempotency_key, body_hash, ticket_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [r.pipeline, r.idempotencyKey, r.bodyHash, r.ticketId]);
  return rowCount === 1;
}
