import type { Pool, PoolClient } from 'pg';

export interface CallAttempt {
  ticketId: string;
  /** `business` or the IM (`lark`, `dingtalk`). */
  target: string;
  stage?: string;
  action: string;
  attempt: number;
  /** When the call was sent (for a paced call: when the pace let it go, on the database clock). */
  startedAt?: Date;
  request?: unknown;
  response?: unknown;
  status?: number;
  error?: string;
  latencyMs: number;
}

/** Records one call attempt; callers pass requests and responses with secrets and signatures already removed. */
export async function recordCallAttempt(db: Pool | PoolClient, a: CallAttempt): Promise<void> {
  await db.query({
    name: 'record-call-attempt',
    text: `INSERT INTO call_attempts (ticket_id, target, stage, action, attempt, request, response, status, error, latency_ms, started_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11, now() - make_interval(secs => $12::float / 1000)))`,
    values: [a.ticketId, a.target, a.stage ?? null, a.action, a.attempt, json(a.request), json(a.response), a.status ?? null, a.error ?? null, Math.round(a.latencyMs), a.startedAt ?? null, a.latencyMs],
  });
}

function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}
