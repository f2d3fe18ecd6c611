import type { Pool } from 'pg';

/**
 * Adds `calls` to a provider's count of quota-counted IM calls for a month (every replica adds its own) and returns
 * the total before and after this addition: the one addition that crosses a threshold is seen by one replica only.
 */
export async function addImCalls(pool: Pool, provider: string, month: string, calls: number): Promise<{ before: number; after: number }> {
  const { rows } = await pool.query<{ calls: string }>(
    `INSERT INTO im_call_months AS m (provider, month, calls) VALUES ($1, $2, $3)
     ON CONFLICT (provider, month) DO UPDATE SET calls = m.calls + excluded.calls
     RETURNING calls`,
    [provider, month, calls],
  );
  const after = Number(rows[0]!.calls);
  return { before: after - calls, after };
}
