import type { Pool } from 'pg';

export type SendClaim = { sentAt: Date } | { waitMs: number };

/**
 * Claims the right to send now: succeeds only when the key's previous send is at least `spacingMs` ago (on the
 * database clock, shared by every replica), and records this send. Otherwise says how long to wait.
 */
export async function claimSend(pool: Pool, key: string, spacingMs: number): Promise<SendClaim> {
  const { rows } = await pool.query<{ sent_at: Date | null; wait_ms: number }>(
    `WITH claimed AS (
       INSERT INTO rate_slots AS r (key, next_slot, last_sent) VALUES ($1, clock_timestamp(), clock_timestamp())
       ON CONFLICT (key) DO UPDATE SET last_sent = clock_timestamp()
         WHERE r.last_sent IS NULL OR r.last_sent <= clock_timestamp() - make_interval(secs => $2::float / 1000)
       RETURNING last_sent)
     SELECT (SELECT last_sent FROM claimed) AS sent_at,
            greatest(1, extract(epoch FROM (last_sent + make_interval(secs => $2::float / 1000) - clock_timestamp())) * 1000)::float AS wait_ms
       FROM rate_slots WHERE key = $1`,
    [key, spacingMs],
  );
  const row = rows[0];
  if (!row) return { waitMs: 1 }; // another replica created the key in this instant
  return row.sent_at ? { sentAt: row.sent_at } : { waitMs: row.wait_ms };
}

/** Waits for the send gate (after the caller's slot came): calls made through it are never closer than `spacingMs`. */
export async function sendWhenDue(pool: Pool, key: string, spacingMs: number): Promise<Date> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (;;) {
    const claim = await claimSend(pool, key, spacingMs);
    if ('sentAt' in claim) return claim.sentAt;
    await sleep(claim.waitMs);
  }
}
