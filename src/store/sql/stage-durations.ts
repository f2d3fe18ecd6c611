import type { Pool } from 'pg';

export type StagePart = 'approval' | 'check' | 'check_call' | 'execute' | 'execute_call' | 'operator';

/**
 * How long tickets spend in each part of their path, median and 90th percentile, over the newest `limit` tickets
 * opened in the last `days` days (bounded: `tickets_recent`, then each ticket's audit and calls by their ticket
 * index). From `ticket_audit`: the time between entering a state and leaving it, summed per ticket over the states
 * of a part (`checking` and `awaiting_check_callback` are the check stage); a part the ticket has not left yet is not
 * counted. From `call_attempts`: the latency of each business call, per stage.
 */
export async function stageDurations(pool: Pool, days: number, limit: number): Promise<Array<{ part: StagePart; p50: number; p90: number; n: number }>> {
  const { rows } = await pool.query<{ part: StagePart; p50: number; p90: number; n: number }>(
    // Each ticket's rows are read through its own index (the window function, and OFFSET 0, keep PostgreSQL from
    // turning the lateral reads into one scan of the whole audit or calls table).
    `WITH recent AS (
       SELECT id FROM tickets WHERE created_at >= now() - make_interval(days => $1) ORDER BY created_at DESC, id DESC LIMIT $2),
     moves AS (
       SELECT recent.id AS ticket_id, m.to_state, m.at, m.left_at
       FROM recent, LATERAL (
         SELECT a.to_state, a.at, lead(a.at) OVER (ORDER BY a.id) AS left_at
         FROM ticket_audit a WHERE a.ticket_id = recent.id AND a.from_state IS DISTINCT FROM a.to_state) m),
     spent AS (
       SELECT ticket_id,
              CASE to_state WHEN 'in_approval' THEN 'approval' WHEN 'needs_operator' THEN 'operator'
                            WHEN 'checking' THEN 'check' WHEN 'awaiting_check_callback' THEN 'check'
                            WHEN 'executing' THEN 'execute' WHEN 'awaiting_execute_callback' THEN 'execute' END AS part,
              sum(extract(epoch FROM left_at - at) * 1000) AS ms
       FROM moves WHERE left_at IS NOT NULL GROUP BY 1, 2),
     measured AS (
       SELECT part, ms FROM spent WHERE part IS NOT NULL
       UNION ALL
       SELECT c.stage || '_call', c.latency_ms
       FROM recent, LATERAL (
         SELECT stage, latency_ms FROM call_attempts
         WHERE ticket_id = recent.id AND target = 'business' AND stage IN ('check', 'execute') AND action LIKE 'call%' OFFSET 0) c)
     SELECT part, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::float8 AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::float8 AS p90, count(*)::int AS n
     FROM measured GROUP BY part`,
    [days, limit],
  );
  return rows;
}
