import type { Pool } from 'pg';

export interface NewVersion {
  name: string;
  version: number;
  contentHash: string;
  source: string;
  file: string;
  provider: string;
  definitionCode: string;
}

/** Records a version; returns the hash stored for (name, version), which differs when another replica won. */
export async function insertPipelineVersion(pool: Pool, v: NewVersion): Promise<{ contentHash: string; firstLoadedAt: Date }> {
  // A replica inserting the same version at the same moment makes ours do nothing, and the row it committed is
  // not in our statement's snapshot: then the next attempt reads it.
  for (let attempt = 1; ; attempt++) {
    const stored = await insertOrRead(pool, v);
    if (stored || attempt === 3) {
      if (!stored) throw new Error(`pipeline ${v.name} v${v.version} could not be stored or read`);
      return stored;
    }
  }
}

async function insertOrRead(pool: Pool, v: NewVersion): Promise<{ contentHash: string; firstLoadedAt: Date } | undefined> {
  const { rows } = await pool.query(
    `WITH inserted AS (
       INSERT INTO pipeline_versions (name, version, content_hash, source, file, provider, definition_code)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (name, version) DO NOTHING
       RETURNING content_hash, first_loaded_at)
     SELECT content_hash, first_loaded_at FROM inserted
     UNION ALL
     SELECT content_hash, first_loaded_at FROM pipeline_versions WHERE name = $1 AND version = $2
     LIMIT 1`,
    [v.name, v.version, v.contentHash, v.source, v.file, v.provider, v.definitionCode],
  );
  return rows[0] && { contentHash: rows[0].content_hash, firstLoadedAt: rows[0].first_loaded_at };
}
