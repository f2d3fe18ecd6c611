import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { insertPipelineVersion } from '../store/sql/insert-pipeline-version.ts';
import { repoRoot } from '../testing/cli.ts';
import { migratedTestDatabase, type MigratedTestDatabase } from '../testing/database.ts';
import { countYamlWork } from '../testing/yaml-count.ts';
import { contentHash } from './runtime-rules.ts';
import { PipelineVersions } from './versions.ts';

let db: MigratedTestDatabase;
before(async () => {
  db = await migratedTestDatabase();
});
after(() => db.close());

const store = (name: string, version: number, source: string) =>
  insertPipelineVersion(db.pool, { name, version, contentHash: contentHash(source), source, file: `${name}.yaml`, provider: 'lark', definitionCode: `${name}-code` });

test('a stored version that is not live is read from the table and parsed once, however many ask at once', async () => {
  await store('admin-permission', 1, await readFile(join(repoRoot, 'pipelines/admin-permission.yaml'), 'utf8'));
  const versions = new PipelineVersions(db.pool);
  const first = await countYamlWork(() => Promise.all([versions.get('admin-permission', 1), versions.get('admin-permission', 1)]));
  assert.equal(first.parses, 1);
  assert.equal(first.result[0], first.result[1]);
  assert.deepEqual([first.result[0].metadata.name, first.result[0].metadata.version], ['admin-permission', 1]);
  const again = await countYamlWork(() => versions.get('admin-permission', 1));
  assert.equal(again.parses, 0);
  assert.equal(again.result, first.result[0]);
});

test('a version that is not stored is an error, and not remembered: once stored it is found', async () => {
  const versions = new PipelineVersions(db.pool);
  await assert.rejects(versions.get('later', 2), /^Error: pipeline later@2 is not stored$/);
  await store('later', 2, 'metadata:\n  name: later\n  version: 2\n');
  assert.deepEqual(await versions.get('later', 2), { metadata: { name: 'later', version: 2 } });
});
