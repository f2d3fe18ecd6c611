import type { Pool } from 'pg';

/** `count` tickets of a pipeline `bench`@1, one every 30 s back from now, in a mix of states; analyzed. */
export async function seedConsoleTickets(pool: Pool, count: number): Promise<void> {
  await pool.query(`INSERT INTO pipeline_versions (name, version, content_hash, source, file, provider, definition_code) VALUES ('bench', 1, 'h', 'x', 'x', 'lark', 'B')`);
  await pool.query(
    `INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, state, data, created_at)
     SELECT 'tk_' || lpad(g::text, 7, '0'), 'bench', 1, 'lark', 'B', 'INST-' || g,
            (ARRAY['completed','completed','completed','in_approval','rejected_by_check','needs_operator'])[1 + g % 6],
            jsonb_build_object('applicant', jsonb_build_object('user_id', 'u' || (g % 500)), 'fields', jsonb_build_object('system', 'crm'), 'tasks', '{}'::jsonb, 'results', '{}'::jsonb),
            now() - make_interval(secs => g * 30)
     FROM generate_series(1, $1) g`,
    [count],
  );
  await pool.query('ANALYZE tickets');
}

/** The ticket `offset` rows into the list (newest first), optionally of one state: where a deep page starts. */
export async function ticketAtOffset(pool: Pool, offset: number, state?: string): Promise<{ created_at: Date; id: string }> {
  const { rows } = await pool.query(`SELECT created_at, id FROM tickets WHERE $2::text IS NULL OR state = $2 ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`, [offset, state ?? null]);
  return rows[0];
}
