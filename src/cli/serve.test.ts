import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cliPath, repoRoot } from '../testing/cli.ts';
import { testDatabase } from '../testing/database.ts';
import { freePort, startServe } from '../testing/process.ts';

const postgresRunningOn = (dir: string) => {
  try {
    return execFileSync('pgrep', ['-f', `bin/postgres -D ${dir}`], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
};

describe('serve on the embedded PostgreSQL default', () => {
  test('starts in a root-only temporary folder, refuses a second runtime, survives SIGKILL, drains on SIGTERM', async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'tf-serve-')); // mode 0700, owned by root: the hard case
    t.after(() => rm(root, { recursive: true, force: true }));
    const dataDir = join(root, 'data');
    const pipelines = join(root, 'pipelines');
    await cp(join(repoRoot, 'pipelines'), pipelines, { recursive: true });
    const env = { TICKETFLOW_DATA_DIR: dataDir, PIPELINES_DIR: pipelines };
    if (process.getuid?.() === 0) assert.equal((await stat(root)).mode & 0o777, 0o700);

    const started = Date.now();
    const first = await startServe(env, await freePort());
    t.after(() => first.child.kill('SIGKILL'));
    const startup = Date.now() - started;
    t.diagnostic(`first start (initdb included): /healthz after ${startup} ms`);
    assert.match(first.output(), /SANDBOX MODE/);
    const ready = (await (await fetch(`${first.url}/readyz`)).json()) as { status: string; pipelines: unknown[] };
    assert.equal(ready.status, 'ready');
    assert.equal(ready.pipelines.length, 5);

    // One data dir, one runtime.
    const second = spawn(process.execPath, [cliPath, 'serve'], { cwd: repoRoot, env: { ...process.env, ...env, DATABASE_URL: '', LARK_APP_ID: '', PORT: String(await freePort()) } });
    let secondOut = '';
    second.stdout.on('data', (d) => (secondOut += d));
    second.stderr.on('data', (d) => (secondOut += d));
    const secondCode = await new Promise((r) => second.on('exit', r));
    assert.equal(secondCode, 1);
    assert.match(secondOut, new RegExp(`the data dir ${dataDir} is in use by another Ticketflow runtime \\(pid ${first.child.pid}\\); one runtime process per data dir`));

    // SIGKILL leaves the embedded server behind; the next start must recover it and find the same data.
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(postgresRunningOn(join(dataDir, 'pg')), 'the killed runtime left its PostgreSQL running');
    const file = join(pipelines, 'admin-permission.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace('timeout: 5s', 'timeout: 9s')); // same version 1, new content

    const again = await startServe(env, await freePort());
    t.after(() => again.child.kill('SIGKILL'));
    assert.match(again.output(), /stopping an embedded PostgreSQL left running by a runtime that did not shut down/);
    const after = (await (await fetch(`${again.url}/readyz`)).json()) as { load_errors: Array<{ rule: string; text: string }> };
    assert.deepEqual(after.load_errors.map((e) => e.rule), ['version-reuse'], 'version 1 stored before the kill is still in the database');

    // SIGTERM: drain, stop the embedded server, exit 0.
    again.child.kill('SIGTERM');
    assert.equal(await again.exited, 0, again.output());
    assert.equal(postgresRunningOn(join(dataDir, 'pg')), false, 'the embedded server was stopped');
    assert.match(again.output(), /draining: readyz answers 503/);
  });
});

describe('serve on the PostgreSQL server of DATABASE_URL', () => {
  test('uses that server (and no embedded one), applies migrations, serves', async (t) => {
    const db = await testDatabase(); // the server of DATABASE_URL when set, else the run's shared one, else a separate embedded server
    t.after(() => db.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'tf-unused-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const serve = await startServe({ DATABASE_URL: db.url, TICKETFLOW_DATA_DIR: dataDir }, await freePort());
    assert.match(serve.output(), /using the PostgreSQL server of DATABASE_URL/);
    assert.doesNotMatch(serve.output(), /embedded PostgreSQL is up/);
    assert.equal((await (await fetch(`${serve.url}/readyz`)).json() as { status: string }).status, 'ready');
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exited, 0);
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query('SELECT count(*)::int AS n FROM pipeline_versions');
    await c.end();
    assert.equal(rows[0].n, 5);
  });
});
