import type { Pool, PoolClient } from 'pg';
import { handOverPendingEffects } from './hand-over-pending-effects.ts';

/** Hands over the effects of processes that stopped beating (they died before running them). */
export async function handOverOrphanedEffects(db: Pool | PoolClient, deadAfterS: number): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM pending_effects p
     WHERE created_at < now() - make_interval(secs => $1)
       AND NOT EXISTS (SELECT 1 FROM worker_heartbeats h WHERE h.worker_id = p.claimed_by AND h.beat_at > now() - make_interval(secs => $1))
     LIMIT 1000`,
    [deadAfterS],
  );
  return rows.length ? handOverPendingEffects(db, rows.map((r) => r.id), 0) : 0;
}
