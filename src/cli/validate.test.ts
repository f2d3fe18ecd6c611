import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot, runCli } from '../testing/cli.ts';

const fixture = (rel: string) => readFile(join(repoRoot, 'src/pipeline/testdata', rel), 'utf8');

test('validate: the repository pipelines pass with exit 0 (the npm run validate of CI)', async () => {
  const r = await runCli(['validate']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /5 pipeline file\(s\): 0 error\(s\), 0 warning\(s\)/);
});

test('validate: problems exit 1 in text, json and github formats', async () => {
  const file = 'src/pipeline/testdata/invalid/bad-enum.yaml';
  const text = await runCli(['validate', file]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^src\/pipeline\/testdata\/invalid\/bad-enum\.yaml:20:11: error: invalid value "aysnc" for "stages\.execute\.mode"; did you mean "async"\?/m);

  const json = await runCli(['validate', '--format', 'json', file]);
  assert.equal(json.code, 1);
  const parsed = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(Object.keys(parsed[0]!).sort(), ['col', 'file', 'line', 'message', 'rule', 'severity']);
  assert.deepEqual([parsed[0]!.line, parsed[0]!.col, parsed[0]!.rule, parsed[0]!.severity], [20, 11, 'schema', 'error']);

  const github = await runCli(['validate', '--format=github', file]);
  assert.equal(github.code, 1);
  assert.match(github.stdout, /^::error file=src\/pipeline\/testdata\/invalid\/bad-enum\.yaml,line=20,col=11,title=schema::invalid value "aysnc"/m);
});

test('validate: warnings pass unless --strict', async () => {
  const file = 'src/pipeline/testdata/invalid/file-name.yaml';
  assert.equal((await runCli(['validate', file])).code, 0);
  assert.equal((await runCli(['validate', '--strict', file])).code, 1);
});

test('validate: --help exits 0; bad usage exits 2 with a reason', async () => {
  const help = await runCli(['validate', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /ticketflow validate \[paths…\]/);
  const flag = await runCli(['validate', '--frmat', 'json']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /Unknown option '--frmat'/);
  const format = await runCli(['validate', '--format', 'xml']);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /--format must be one of text, json, github, got "xml"/);
  const missing = await runCli(['validate', 'no/such/dir']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or directory: no\/such\/dir/);
  const cases = await runCli(['validate', 'pipelines/sql-change.test.yaml']);
  assert.equal(cases.code, 2, 'a fixture file named is not validated as a pipeline');
  assert.match(cases.stderr, /pipelines\/sql-change\.test\.yaml holds fixture cases, not a pipeline: run ticketflow test/);
  assert.equal((await runCli(['frobnicate'])).code, 2);
  assert.equal((await runCli(['--help'])).code, 0);
});

test('validate --base: in a git repository, a changed pipeline without a version bump fails at metadata.version', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tf-base-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } });
  git('init', '-q', '-b', 'main');
  await mkdir(join(dir, 'pipelines'));
  const original = (await fixture('valid/demo.yaml')).replace('../../../../schemas', '../schemas');
  await writeFile(join(dir, 'pipelines/demo.yaml'), original);
  git('add', '.');
  git('commit', '-qm', 'base');

  await writeFile(join(dir, 'pipelines/demo.yaml'), original.replace('mode: sync', 'mode: sync\n    timeout: 3s'));
  const unbumped = await runCli(['validate', '--base', 'main'], { cwd: dir });
  assert.equal(unbumped.code, 1);
  assert.equal(
    unbumped.stdout.trim(),
    'pipelines/demo.yaml:6:12: error: the pipeline changed since the base revision but "metadata.version" is 1; raise it to 2 (tickets finish on the version they started on) [version-bump]',
  );

  await writeFile(join(dir, 'pipelines/demo.yaml'), original.replace('mode: sync', 'mode: sync\n    timeout: 3s').replace('version: 1', 'version: 2'));
  const bumped = await runCli(['validate', '--base', 'main'], { cwd: dir });
  assert.equal(bumped.code, 0, bumped.stdout);

  await writeFile(join(dir, 'pipelines/new.yaml'), original.replace('name: demo', 'name: new').replace('CODE-demo', 'CODE-new'));
  assert.equal((await runCli(['validate', '--base', 'main'], { cwd: dir })).code, 0, 'a file new since the base needs no bump');

  const badRev = await runCli(['validate', '--base', 'no-such-branch'], { cwd: dir });
  assert.equal(badRev.code, 2);
  assert.match(badRev.stderr, /--base: "no-such-branch" is not a git revision here/);
});

test('validate: an alias bomb is a positioned yaml-syntax error (exit 1, no stack trace), and the other files are still checked', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tf-bomb-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lines = ['apiVersion: ticketflow/v1', 'kind: Pipeline', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [from, to] of [['a', 'b'], ['b', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'f'], ['f', 'g'], ['g', 'h'], ['h', 'i']]) lines.push(`${to}: &${to} [${Array(9).fill(`*${from}`).join(',')}]`);
  await writeFile(join(dir, 'bomb.yaml'), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'demo.yaml'), (await fixture('valid/demo.yaml')).replace('mode: sync', 'mode: synk'));
  const r = await runCli(['validate', dir]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout.trim().split('\n').map((l) => l.replace(dir, '<dir>')).join('\n'), [
    '<dir>/bomb.yaml:6:8: error: alias *c expands the document past 100 alias uses (an alias bomb?); write the values out, or use fewer aliases [yaml-syntax]',
    '<dir>/demo.yaml:16:11: error: invalid value "synk" for "stages.check.mode"; did you mean "sync"? (expected one of: sync, async) [schema]',
  ].join('\n'));
  assert.doesNotMatch(r.stderr, /\bat .*\.(ts|js):\d+/);
  assert.match(r.stderr, /2 pipeline file\(s\): 2 error\(s\), 0 warning\(s\)/);
});
