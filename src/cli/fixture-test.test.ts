import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isPipelineFile } from '../pipeline/files.ts';
import { repoRoot, runCli } from '../testing/cli.ts';

test('ticketflow test: every example pipeline ships with cases, and they all pass (exit 0)', async () => {
  const pipelines = (await readdir(join(repoRoot, 'pipelines'))).filter(isPipelineFile);
  for (const name of pipelines) assert.ok(existsSync(join(repoRoot, 'pipelines', name.replace(/\.ya?ml$/, '.test.yaml'))), `pipelines/${name} has no cases`);
  const r = await runCli(['test']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^(\\d+) case\\(s\\) in ${pipelines.length} file\\(s\\): \\1 passed, 0 failed\\n$`));
});

/** One case per failure kind, at known lines (the line numbers below count from this text). */
const failing = `# yaml-language-server: $schema=../schemas/pipeline-test.schema.json
pipeline: admin-permission
cases:
  - name: wrong field
    form:
      - { custom_id: system, type: radioV2, value: crm }
      - { custom_id: roles, type: checkboxV2, value: [只读, 编辑] }
      - { name: 申请理由, type: textarea, value: Reports }
    fields:
      system: crm
      roles: [viewer]
      reason: Reports
  - name: wrong state
    form:
      - { custom_id: system, type: radioV2, value: erp }
      - { custom_id: roles, type: checkboxV2, value: [编辑] }
      - { name: 申请理由, type: textarea, value: Postings }
    replies:
      check: { result: true }
      execute: { result: false, error: ERP is frozen. }
    state: completed
  - name: wrong refusal
    form:
      - { custom_id: system, type: radioV2, value: crm }
      - { custom_id: roles, type: checkboxV2, value: [只读] }
    refusal: '"reason" is missing'
  - name: right
    form:
      - { custom_id: system, type: radioV2, value: crm }
      - { custom_id: roles, type: checkboxV2, value: [只读] }
      - { name: 申请理由, type: textarea, value: Reports }
    replies: { check: { result: true } }
    approval: pending
    state: in_approval
`;

async function workspace(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-fixtures-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'pipelines'));
  await writeFile(join(dir, 'pipelines/admin-permission.yaml'), await readFile(join(repoRoot, 'pipelines/admin-permission.yaml'), 'utf8'));
  await writeFile(join(dir, 'pipelines/admin-permission.test.yaml'), failing);
  // A schema error in a fixture file, a fixture without its pipeline, a pipeline that does not validate.
  await writeFile(join(dir, 'pipelines/sql-change.yaml'), await readFile(join(repoRoot, 'pipelines/sql-change.yaml'), 'utf8'));
  await writeFile(join(dir, 'pipelines/sql-change.test.yaml'), 'cases:\n  - name: typo\n    from: []\n    state: checking\n');
  await writeFile(join(dir, 'pipelines/gone.test.yaml'), 'pipeline: gone\ncases:\n  - { name: a, form: [], state: checking }\n');
  await writeFile(join(dir, 'pipelines/broken.yaml'), (await readFile(join(repoRoot, 'pipelines/admin-permission.yaml'), 'utf8')).replace('name: admin-permission', 'name: broken').replace('mode: sync', 'mode: synk'));
  await writeFile(join(dir, 'pipelines/broken.test.yaml'), 'cases:\n  - { name: a, form: [], state: checking }\n  - { name: b, form: [], state: checking }\n');
  return dir;
}

test('ticketflow test: each failure at the file:line:col of the expectation, with expected and actual; exit 1', async (t) => {
  const dir = await workspace(t);
  const r = await runCli(['test'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  const out = r.stdout.trim().split('\n');
  assert.deepEqual(out.slice(0, 3), [
    'pipelines/admin-permission.test.yaml:11:7: error: case "wrong field": fields.roles: expected ["viewer"], the business receives ["viewer","editor"] [fields]',
    'pipelines/admin-permission.test.yaml:21:12: error: case "wrong state": expected completed, but the ticket ends execute_failed: opened checking; the check call is answered (checking → in_approval); the check node is approved with "Check passed."; the approvers approve; the flow reaches the execute node (in_approval → executing); the execute call is answered (executing → execute_failed); the execute node is rejected with "ERP is frozen." [state]',
    'pipelines/admin-permission.test.yaml:26:14: error: case "wrong refusal": expected "\\"reason\\" is missing", but the requester reads "The request cannot be checked: \\"reason\\" (widget \\"申请理由\\") is required but not in the form." [refusal]',
  ]);
  assert.deepEqual(out.slice(3), [
    'pipelines/broken.test.yaml:1:1: error: pipeline pipelines/broken.yaml does not validate: pipelines/broken.yaml:21:11: invalid value "synk" for "stages.check.mode"; did you mean "sync"? (expected one of: sync, async) [schema] [pipeline]',
    'pipelines/gone.test.yaml:1:1: error: no pipeline beside these cases: expected pipelines/gone.yaml [pipeline]',
    'pipelines/sql-change.test.yaml:3:5: error: case "typo": unknown key "from" in "cases.0"; did you mean "form"? (allowed: name, form, create, fields, refusal, replies, approval, state) [schema]',
  ]);
  assert.equal(r.stderr, '8 case(s) in 4 file(s): 1 passed, 7 failed\n');
});

test('ticketflow test --format github and json; a named fixture file alone', async (t) => {
  const dir = await workspace(t);
  const github = await runCli(['test', '--format', 'github', 'pipelines/admin-permission.test.yaml'], { cwd: dir });
  assert.equal(github.code, 1);
  assert.match(github.stdout, /^::error file=pipelines\/admin-permission\.test\.yaml,line=11,col=7,title=fields::case "wrong field": fields\.roles: expected/m);
  assert.equal(github.stderr, '4 case(s) in 1 file(s): 1 passed, 3 failed\n');

  const json = await runCli(['test', '--format=json', 'pipelines/gone.test.yaml'], { cwd: dir });
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout), {
    cases: 1,
    files: 1,
    passed: 0,
    failed: 1,
    failures: [{ file: 'pipelines/gone.test.yaml', line: 1, col: 1, severity: 'error', rule: 'pipeline', message: 'no pipeline beside these cases: expected pipelines/gone.yaml' }],
  });
});

test('ticketflow test: bad usage exits 2 with a reason; no fixture file at all exits 1', async (t) => {
  const dir = await workspace(t);
  const format = await runCli(['test', '--format', 'xml'], { cwd: dir });
  assert.equal(format.code, 2);
  assert.match(format.stderr, /--format must be one of text, json, github, got "xml"/);
  const pipeline = await runCli(['test', 'pipelines/sql-change.yaml'], { cwd: dir });
  assert.equal(pipeline.code, 2);
  assert.match(pipeline.stderr, /pipelines\/sql-change\.yaml is not a fixture file \(<name>\.test\.yaml\); its cases would be in pipelines\/sql-change\.test\.yaml/);
  const missing = await runCli(['test', 'no/such/dir'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no such file or directory: no\/such\/dir/);
  await mkdir(join(dir, 'empty'));
  const empty = await runCli(['test', 'empty'], { cwd: dir });
  assert.equal(empty.code, 1);
  assert.equal(empty.stderr, 'no fixture files (*.test.yaml) in empty\n');
});
