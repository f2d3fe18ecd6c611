import type { Pool } from 'pg';

/** The source of one stored version. */
export async function getPipelineVersion(pool: Pool, name: string, version: number): Promise<{ source: string; contentHash: string } | undefined> {
  const { rows } = await pool.query(`SELECT source, content_hash FROM pipeline_versions WHERE name = $1 AND version = $2`, [name, version]);
  return rows[0] ? { source: rows[0].source, contentHash: rows[0].content_hash } : undefined;
}
