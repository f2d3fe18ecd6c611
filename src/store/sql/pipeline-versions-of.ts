import type { Pool } from 'pg';

export async function pipelineVersionsOf(pool: Pool, name: string) {
  const { rows } = await pool.query('SELECT version, content_hash, file, first_loaded_at, source FROM pipeline_versions WHERE name = $1 ORDER BY version DESC', [name]);
  return rows;
}
