import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getPipelineVersion } from '../store/sql/pipeline-versions.ts';
import { startStack, type TestStack } from '../testing/runtime.ts';

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('pipeline registry: hot reload keeps the last good version', () => {
  let stack: TestStack;
  let file: string;
  let original: string;
  before(async () => {
    stack = await startStack();
    file = join(stack.pipelinesDir, 'admin-permission.yaml');
    original = await readFile(file, 'utf8');
  });
  after(() => stack.close());

  const readyz = async () => (await (await fetch(`${stack.runtime.url}/readyz`)).json()) as { status: string; pipelines: Array<{ name: string; version: number }>; load_errors: Array<{ text: string; rule: string }> };
  const live = () => stack.runtime.registry.get('admin-permission');

  test('at start every example pipeline is live and stored', async () => {
    const r = await readyz();
    assert.equal(r.status, 'ready');
    assert.deepEqual(r.pipelines.map((p) => `${p.name}@${p.version}`), ['admin-permission@1', 'clouddm-data-change@1', 'sql-change@1', 'travel-expense@1']);
    assert.deepEqual(r.load_errors, []);
    assert.equal((await getPipelineVersion(stack.runtime.pool, 'admin-permission', 1))?.source, original);
  });

  test('a valid edit goes live and its version is stored', async () => {
    const v2 = original.replace('  version: 1', '  version: 2').replace('timeout: 5s', 'timeout: 6s');
    await writeFile(file, v2);
    await until('version 2 live', () => live()?.version === 2);
    assert.equal(live()?.pipeline.stages.check?.timeout, '6s');
    assert.equal((await getPipelineVersion(stack.runtime.pool, 'admin-permission', 2))?.source, v2);
    assert.equal((await getPipelineVersion(stack.runtime.pool, 'admin-permission', 1))?.source, original, 'version 1 stays readable');
  });

  test('an invalid edit leaves the last good version live and is reported with its position', async () => {
    const loads = stack.runtime.registry.loadCount;
    await writeFile(file, original.replace('  version: 1', '  version: 3').replace('    mode: sync\n    timeout: 5s', '    mode: synk\n    timeout: 5s'));
    await until('a reload', () => stack.runtime.registry.loadCount > loads);
    assert.equal(live()?.version, 2);
    const r = await readyz();
    assert.equal(r.status, 'ready', 'an invalid file does not make the runtime unready');
    assert.deepEqual(r.load_errors.map((e) => e.text), [
      `${join(stack.pipelinesDir, "admin-permission.yaml")}:21:11: error: invalid value "synk" for "stages.check.mode"; did you mean "sync"? (expected one of: sync, async) [schema]`,
    ]);
    assert.match(r.load_errors[0]!.text, /admin-permission\.yaml:21:11/);
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.match(metrics, /^ticketflow_pipeline_load_errors 1$/m);
  });

  test('a changed file that keeps a stored version number is refused at metadata.version', async () => {
    const loads = stack.runtime.registry.loadCount;
    await writeFile(file, original.replace('  version: 1', '  version: 2').replace('timeout: 5s', 'timeout: 7s'));
    await until('a reload', () => stack.runtime.registry.loadCount > loads);
    assert.equal(live()?.pipeline.stages.check?.timeout, '6s', 'the stored version 2 stays live');
    const [error] = stack.runtime.registry.loadErrors();
    assert.equal(error?.rule, 'version-reuse');
    assert.deepEqual([error?.line, error?.col], [9, 12]);
    assert.match(error!.message, /^version 2 of pipeline "admin-permission" was already loaded with other content \(first loaded .*\); raise metadata.version to 3\./);
  });

  test('a pipeline whose secret variable is unset or short does not load', async () => {
    const loads = stack.runtime.registry.loadCount;
    const other = original.replace('name: admin-permission', 'name: unset-secret').replace('7C468A54-8745-2245-9675-08B7C63E7A85', 'OTHER-CODE').replace('TICKETFLOW_SECRET_ADMIN_PERMISSION', 'TICKETFLOW_SECRET_NOBODY_SET_THIS');
    await writeFile(join(stack.pipelinesDir, 'unset-secret.yaml'), other);
    await until('a reload', () => stack.runtime.registry.loadCount > loads);
    assert.equal(stack.runtime.registry.get('unset-secret'), undefined);
    const error = stack.runtime.registry.loadErrors().find((e) => e.rule === 'secret-unset');
    assert.equal(error?.message, "environment variable TICKETFLOW_SECRET_NOBODY_SET_THIS is not set; the runtime needs it to sign this pipeline's calls (at least 32 bytes)");
    await rm(join(stack.pipelinesDir, 'unset-secret.yaml'));
  });

  test('a deleted file stops being live, and its versions stay readable', async () => {
    await rm(join(stack.pipelinesDir, 'sql-change.yaml'));
    await until('sql-change gone', () => stack.runtime.registry.get('sql-change') === undefined);
    assert.ok((await getPipelineVersion(stack.runtime.pool, 'sql-change', 1))?.source.includes('name: sql-change'));
    assert.ok(stack.runtime.registry.knowsDefinition('lark', '4F0C2E1B-6A3D-4C77-9B1E-2D5A8F3C9E10'), 'its events are still kept for tickets in flight');
  });
});
