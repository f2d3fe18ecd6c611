import type { Pool } from 'pg';

/**
 * Tickets opened on each of the last `days` days (today included), by the state each is in now. A day runs from
 * midnight to midnight at `offsetMinutes` east of UTC (the reader's time zone). Every day is listed, with a null
 * state when no ticket was opened on it. Bounded: a range scan of `tickets_recent` over the window.
 */
export async function ticketsPerDay(pool: Pool, days: number, offsetMinutes: number): Promise<Array<{ day: string; state: string | null; n: number }>> {
  const { rows } = await pool.query<{ day: string; state: string | null; n: number }>(
    `WITH today AS (SELECT date_trunc('day', (now() AT TIME ZONE 'UTC') + make_interval(mins => $2)) AS d),
          days AS (SELECT generate_series(today.d - make_interval(days => $1 - 1), today.d, interval '1 day') AS d FROM today),
          counted AS (
            SELECT date_trunc('day', (created_at AT TIME ZONE 'UTC') + make_interval(mins => $2)) AS d, state, count(*)::int AS n
            FROM tickets
            WHERE created_at >= ((SELECT min(d) FROM days) - make_interval(mins => $2)) AT TIME ZONE 'UTC'
            GROUP BY 1, 2)
     SELECT to_char(days.d, 'YYYY-MM-DD') AS day, counted.state, COALESCE(counted.n, 0) AS n
     FROM days LEFT JOIN counted USING (d) ORDER BY days.d, counted.state`,
    [days, offsetMinutes],
  );
  return rows;
}
