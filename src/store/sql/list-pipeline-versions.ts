import type { Pool } from 'pg';

/** What the database records of a pipeline version (its source aside). */
export interface StoredVersion {
  name: string;
  version: number;
  contentHash: string;
  provider: string;
  definitionCode: string;
  firstLoadedAt: Date;
}

/** Every stored version, for the version-reuse rule and for knowing the definitions of tickets still open. */
export async function listPipelineVersions(pool: Pool): Promise<StoredVersion[]> {
  const { rows } = await pool.query(
    `SELECT name, version, content_hash, provider, definition_code, first_loaded_at FROM pipeline_versions ORDER BY name, version`,
  );
  return rows.map((r) => ({
    name: r.name,
    version: r.version,
    contentHash: r.content_hash,
    provider: r.provider,
    definitionCode: r.definition_code,
    firstLoadedAt: r.first_loaded_at,
  }));
}
