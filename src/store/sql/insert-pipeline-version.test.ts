import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pool } from 'pg';
import { migratedTestDatabase, type MigratedTestDatabase } from '../../testing/database.ts';
import { insertPipelineVersion } from './insert-pipeline-version.ts';

let db: MigratedTestDatabase;
let pool: Pool;
before(async () => {
  db = await migratedTestDatabase(8);
  pool = db.pool;
});
after(() => db.close());

test('replicas storing the same pipeline version at the same moment all read back the one that won', async () => {
  for (let version = 1; version <= 30; version++) {
    const attempts = ['a', 'b', 'c', 'd'].map((replica) =>
      insertPipelineVersion(pool, { name: 'race', version, contentHash: `${replica}-${version}`, source: `v${version}`, file: 'race.yaml', provider: 'lark', definitionCode: 'X' }),
    );
    const stored = await Promise.all(attempts);
    assert.equal(new Set(stored.map((s) => s.contentHash)).size, 1, `version ${version}: ${stored.map((s) => s.contentHash).join(', ')}`);
  }
});
