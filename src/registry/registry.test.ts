import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { getPipelineVersion } from '../store/sql/get-pipeline-version.ts';
import { repoRoot } from '../testing/cli.ts';
import { migratedTestDatabase, type MigratedTestDatabase } from '../testing/database.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';
import { countYamlWork } from '../testing/yaml-count.ts';
import { PipelineRegistry } from './registry.ts';

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
    assert.deepEqual(r.pipelines.map((p) => `${p.name}@${p.version}`), ['admin-permission@1', 'clouddm-data-change@2', 'clouddm-permission@1', 'sql-change@1', 'travel-expense@1']);
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

/** Billion laughs: each line aliases the previous one nine times (9^7 strings once expanded). */
const aliasBomb = `apiVersion: ticketflow/v1
kind: Pipeline
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
`;

describe('pipeline registry: one file cannot stop the registry or the start', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ extra: { 'bomb.yaml': aliasBomb } });
  });
  after(() => stack.close());

  test('an alias bomb present at start: the runtime starts, the other pipelines are live, the bomb is a positioned load error', async () => {
    const r = (await (await fetch(`${stack.runtime.url}/readyz`)).json()) as { status: string; pipelines: Array<{ name: string }>; load_errors: Array<{ text: string; rule: string }> };
    assert.equal(r.status, 'ready');
    assert.deepEqual(r.pipelines.map((p) => p.name), ['admin-permission', 'clouddm-data-change', 'clouddm-permission', 'sql-change', 'travel-expense']);
    assert.deepEqual(r.load_errors.map((e) => e.text), [
      `${join(stack.pipelinesDir, 'bomb.yaml')}:6:8: error: alias *c expands the document past 100 alias uses (an alias bomb?); write the values out, or use fewer aliases [yaml-syntax]`,
    ]);
  });

  test('with the bomb in the folder, later changes still load; a bomb written later is reported too', async () => {
    const file = join(stack.pipelinesDir, 'admin-permission.yaml');
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('  version: 1', '  version: 2').replace('timeout: 5s', 'timeout: 6s'));
    await until('version 2 live', () => stack.runtime.registry.get('admin-permission')?.version === 2);
    await writeFile(join(stack.pipelinesDir, 'bomb2.yml'), aliasBomb);
    await until('bomb2 reported', () => stack.runtime.registry.loadErrors().some((e) => e.file.endsWith('bomb2.yml') && e.rule === 'yaml-syntax'));
    assert.equal(stack.runtime.registry.pipelines().length, 5);
  });
});

describe('pipeline registry: an unexpected exception checking one file is that file\'s load error', () => {
  test('the other files load; the failing one is reported at 1:1 and loads once the cause is gone', async (t) => {
    const db = await migratedTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), 'tf-guard-'));
    t.after(async () => {
      await registry.stop();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    });
    const admin = await readFile(join(repoRoot, 'pipelines/admin-permission.yaml'), 'utf8');
    await writeFile(join(dir, 'admin-permission.yaml'), admin);
    await writeFile(join(dir, 'sql-change.yaml'), await readFile(join(repoRoot, 'pipelines/sql-change.yaml'), 'utf8'));
    let broken = true;
    const registry = new PipelineRegistry({
      dir,
      pool: db.pool,
      log: createLogger('silent'),
      metrics: createMetrics(),
      env: (name) => {
        if (broken && name === 'TICKETFLOW_SECRET_SQL_CHANGE') throw new Error('the secret store is unreachable');
        return testSecret;
      },
      debounceMs: 10,
    });
    await registry.start();
    assert.deepEqual(registry.pipelines().map((p) => p.name), ['admin-permission']);
    assert.deepEqual(registry.loadErrors().map((e) => [e.file.endsWith('sql-change.yaml'), e.line, e.col, e.rule, e.message]), [
      [true, 1, 1, 'load-failed', 'the file could not be checked: the secret store is unreachable'],
    ]);
    broken = false;
    const loads = registry.loadCount;
    await writeFile(join(dir, 'admin-permission.yaml'), admin.replace('  version: 1', '  version: 2'));
    await until('a reload', () => registry.loadCount > loads);
    assert.deepEqual(registry.pipelines().map((p) => `${p.name}@${p.version}`), ['admin-permission@2', 'sql-change@1']);
    assert.deepEqual(registry.loadErrors(), []);
  });

  test('a missing PIPELINES_DIR is a load error, not an empty set: the last good pipelines stay live; never loaded, the runtime is not ready', async (t) => {
    const db = await migratedTestDatabase();
    const parent = await mkdtemp(join(tmpdir(), 'tf-dir-'));
    const dir = join(parent, 'pipelines');
    const registry = new PipelineRegistry({ dir, pool: db.pool, log: createLogger('silent'), metrics: createMetrics(), env: () => testSecret, debounceMs: 10 });
    t.after(async () => {
      await registry.stop();
      await db.close();
      await rm(parent, { recursive: true, force: true });
    });
    await registry.start();
    assert.equal(registry.nothingLoaded, true, 'a mistyped folder: nothing was ever loaded');
    assert.deepEqual(registry.loadErrors().map((e) => [e.rule, /PIPELINES_DIR cannot be read/.test(e.message)]), [['pipelines-dir', true]]);

    // The folder appears: it is found without a restart, and the pipelines go live.
    const { mkdir, rename } = await import('node:fs/promises');
    await mkdir(dir);
    await writeFile(join(dir, 'admin-permission.yaml'), await readFile(join(repoRoot, 'pipelines/admin-permission.yaml'), 'utf8'));
    await until('the pipeline live', () => registry.get('admin-permission'), 10_000);
    assert.equal(registry.nothingLoaded, false);
    assert.deepEqual(registry.loadErrors(), []);

    // The folder goes away (a bad deploy): the last good set stays live, and the error is reported.
    await rename(dir, `${dir}.moved`);
    const loads = registry.loadCount;
    await registry.reload();
    assert.ok(registry.loadCount > loads);
    assert.deepEqual(registry.pipelines().map((p) => p.name), ['admin-permission']);
    assert.deepEqual(registry.loadErrors().map((e) => e.rule), ['pipelines-dir']);
    assert.equal(registry.nothingLoaded, false, 'ready: the last good set is live');
  });
});


test('a runtime started on a PIPELINES_DIR that does not exist answers /readyz 503 no_pipelines, naming the folder', async (t) => {
  const stack = await startStack({ env: { PIPELINES_DIR: join(tmpdir(), 'tf-no-such-folder') } });
  t.after(() => stack.close());
  const res = await fetch(`${stack.runtime.url}/readyz`);
  assert.equal(res.status, 503);
  const body = (await res.json()) as { status: string; load_errors: Array<{ rule: string; text: string }> };
  assert.equal(body.status, 'no_pipelines');
  assert.match(body.load_errors[0]!.text, /tf-no-such-folder.*PIPELINES_DIR cannot be read/);
});

describe('pipeline registry: a load parses each file once', () => {
  let db: MigratedTestDatabase;
  let dir: string;
  let registry: PipelineRegistry;
  let broken = false;
  before(async () => {
    db = await migratedTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'tf-once-'));
    for (const name of ['admin-permission', 'sql-change']) await writeFile(join(dir, `${name}.yaml`), await readFile(join(repoRoot, `pipelines/${name}.yaml`), 'utf8'));
    const env = (name: string) => {
      if (broken && name === 'TICKETFLOW_SECRET_SQL_CHANGE') throw new Error('the secret store is unreachable');
      return testSecret;
    };
    registry = new PipelineRegistry({ dir, pool: db.pool, log: createLogger('silent'), metrics: createMetrics(), env });
    await registry.reload();
  });
  after(async () => {
    await registry.stop();
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('each file is parsed and converted once, and its live version is served as the very object the load produced', async () => {
    const load = await countYamlWork(() => registry.reload());
    assert.deepEqual({ parses: load.parses, conversions: load.conversions }, { parses: 2, conversions: 2 });
    const served = await countYamlWork(() => Promise.all([registry.versions.get('admin-permission', 1), registry.versions.get('sql-change', 1)]));
    assert.deepEqual({ parses: served.parses, conversions: served.conversions }, { parses: 0, conversions: 0 });
    assert.equal(served.result[0], registry.get('admin-permission')?.pipeline);
    assert.equal(served.result[1], registry.get('sql-change')?.pipeline);
  });

  test('a file that makes the checker throw is isolated without parsing any file again', async () => {
    broken = true;
    const load = await countYamlWork(() => registry.reload());
    broken = false;
    assert.deepEqual(registry.loadErrors().map((e) => [e.file.endsWith('sql-change.yaml'), e.rule]), [[true, 'load-failed']]);
    assert.equal(load.parses, 2);
  });
});
