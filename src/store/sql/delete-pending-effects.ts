import type { Pool, PoolClient } from 'pg';

/** An effect that ran to the end. */
export async function deletePendingEffects(db: Pool | PoolClient, ids: readonly string[]): Promise<void> {
  await db.query({
    name: 'delete-pending-effects',
    text: 'DELETE FROM pending_effects WHERE id = ANY($1::bigint[])',
    values: [ids],
  });
}
