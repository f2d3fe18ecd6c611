import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkPipelines } from '../pipeline/check.ts';
import type { Diagnostic } from '../pipeline/diagnostic.ts';
import type { Plan, PipelinePlan } from '../plan/model.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { startLarkSimulator, type LarkSimulator } from '../providers/lark/simulator/server.ts';
import { repoRoot, runCli } from '../testing/cli.ts';
import { startStack, type TestStack } from '../testing/runtime.ts';

const ADMIN_CODE = '7C468A54-8745-2245-9675-08B7C63E7A85';
/** No IM, no runtime token, whatever the machine running the tests has set. */
const bare: NodeJS.ProcessEnv = { LARK_APP_ID: '', LARK_APP_SECRET: '', DINGTALK_APP_KEY: '', DINGTALK_APP_SECRET: '', TICKETFLOW_ADMIN_TOKEN: '', HOST: '' };

/**
 * A git repository whose `main` holds the example pipelines, with a working tree that changes them the way a
 * pull request would: admin-permission v2 (an endpoint, a timeout and a mode changed; an option added, one
 * removed; a field retyped, one added; acknowledged), sql-change v2 (a field made required, not acknowledged),
 * travel-expense deleted, access-review new; clouddm-data-change untouched.
 */
async function pullRequestRepo(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tf-plan-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } });
  git('init', '-q', '-b', 'main');
  await mkdir(join(dir, 'pipelines'));
  for (const name of ['admin-permission', 'sql-change', 'travel-expense', 'clouddm-data-change']) await copyFile(join(repoRoot, 'pipelines', `${name}.yaml`), join(dir, 'pipelines', `${name}.yaml`));
  git('add', '.');
  git('commit', '-qm', 'base');
  await edit(dir, 'admin-permission', (t) =>
    t
      .replace('  version: 1\n', '  version: 2\n  acknowledge_breaking: 2\n')
      .replace('endpoint: https://admin.example.com/ticketflow/check', 'endpoint: https://admin-v2.example.com/ticketflow/check')
      .replace('timeout: 5s', 'timeout: 8s')
      .replace('    mode: sync\n    timeout: 30s\n', '    mode: async\n    timeout: 30s\n    deadline: 1h\n    on_deadline: operator\n')
      .replace('      - { label: 管理员, label_en: Administrator, id: admin }\n', '      - { label: 审计, label_en: Auditor, id: auditor }\n')
      .replace('    type: date\n', '    type: datetime\n')
      .concat('  ticket_ref:\n    description: The change ticket this access is for.\n    widget: { custom_id: ticket_ref }\n    type: text\n'),
  );
  await edit(dir, 'sql-change', (t) => t.replace('  version: 1\n', '  version: 2\n').replace('    type: datetime\n    required: false\n', '    type: datetime\n'));
  await unlink(join(dir, 'pipelines/travel-expense.yaml'));
  const admin = await readFile(join(repoRoot, 'pipelines/admin-permission.yaml'), 'utf8');
  await writeFile(join(dir, 'pipelines/access-review.yaml'), admin.replace('name: admin-permission', 'name: access-review').replace(ADMIN_CODE, '9A1B2C3D-0000-4000-8000-000000000001').replace('ADMIN_PERMISSION', 'ACCESS_REVIEW'));
  return dir;
}

async function edit(dir: string, name: string, change: (text: string) => string): Promise<void> {
  const path = join(dir, 'pipelines', `${name}.yaml`);
  const text = await readFile(path, 'utf8');
  const changed = change(text);
  assert.notEqual(changed, text, `the edit of ${name} changed nothing`);
  await writeFile(path, changed);
}

const planIn = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['plan', '--base', 'main', ...args], { cwd: dir, env: { ...bare, ...env } });

async function jsonPlan(dir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; plan: Plan; of: (name: string) => PipelinePlan }> {
  const r = await planIn(dir, ['--format', 'json', ...args], env);
  assert.ok(r.stdout.startsWith('{'), r.stdout + r.stderr);
  const plan = JSON.parse(r.stdout) as Plan;
  return { code: r.code, plan, of: (name) => plan.pipelines.find((p) => p.name === name)! };
}

describe('ticketflow plan', () => {
  let dir: string;
  before(async () => {
    dir = await pullRequestRepo();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('json: each changed, added and removed pipeline with its semantic diff, request type diff and verdict; no environment skips the IM checks', async () => {
    const { code, plan, of } = await jsonPlan(dir);
    assert.equal(code, 1, 'sql-change has a breaking change that is not acknowledged');
    assert.equal(plan.failed, true);
    assert.deepEqual(plan.pipelines.map((p) => [p.name, p.change, p.version.base, p.version.head, p.outcome.result]), [
      ['access-review', 'added', null, 1, 'pass'],
      ['admin-permission', 'changed', 1, 2, 'warn'],
      ['sql-change', 'changed', 1, 2, 'fail'],
      ['travel-expense', 'removed', 1, null, 'warn'],
    ]);

    const admin = of('admin-permission');
    assert.deepEqual(admin.changes, [
      { subject: 'stage', name: 'check', change: 'changed', property: 'endpoint', from: 'https://admin.example.com/ticketflow/check', to: 'https://admin-v2.example.com/ticketflow/check', breaking: false },
      { subject: 'stage', name: 'check', change: 'changed', property: 'timeout', from: '5s', to: '8s', breaking: false },
      { subject: 'stage', name: 'execute', change: 'changed', property: 'mode', from: 'sync', to: 'async', breaking: false },
      { subject: 'stage', name: 'execute', change: 'changed', property: 'deadline', to: '1h', breaking: false },
      { subject: 'stage', name: 'execute', change: 'changed', property: 'on_deadline', to: 'operator', breaking: false },
      { subject: 'field', name: 'roles', change: 'option_added', property: 'options', to: 'auditor', breaking: false },
      { subject: 'field', name: 'roles', change: 'option_removed', property: 'options', from: 'admin', breaking: false },
      { subject: 'field', name: 'until', change: 'changed', property: 'type', from: 'date', to: 'datetime', breaking: true },
      { subject: 'field', name: 'ticket_ref', change: 'added', to: 'text, required', breaking: false },
    ]);
    assert.deepEqual(admin.breaking, { verdict: 'acknowledged', changes: [{ kind: 'field_retyped', name: 'until', message: 'field "until" changed type from date to datetime', line: 50, col: 11 }] });
    assert.deepEqual(admin.outcome, { result: 'warn', reasons: ['breaking changes, acknowledged'] });
    assert.equal(admin.request_type.status, 'changed');
    const diff = admin.request_type.status === 'changed' ? admin.request_type.diff : '';
    assert.match(diff, /^--- AdminPermissionRequest v1\n\+\+\+ AdminPermissionRequest v2\n@@ /);
    assert.match(diff, /\n-  roles: \('viewer' \| 'editor' \| 'admin'\)\[\];\n\+  roles: \('viewer' \| 'editor' \| 'auditor'\)\[\];\n/);
    assert.match(diff, /\n\+  ticket_ref: string;\n/);
    assert.doesNotMatch(diff, /version \d\)/, 'the version named in a comment is not a difference');
    assert.deepEqual(admin.definition, { check: { status: 'skipped', code: ADMIN_CODE, reason: 'no credentials: set LARK_APP_ID and LARK_APP_SECRET' } });
    assert.deepEqual(admin.open_tickets, { status: 'skipped', reason: 'no --runtime given' });

    const sql = of('sql-change');
    assert.deepEqual(sql.changes, [{ subject: 'field', name: 'run_after', change: 'changed', property: 'required', from: 'false', to: 'true', breaking: true }]);
    assert.equal(sql.breaking.verdict, 'unacknowledged');
    assert.deepEqual(sql.outcome, { result: 'fail', reasons: ['breaking changes not acknowledged'] });
    assert.match(sql.request_type.status === 'changed' ? sql.request_type.diff : '', /\n-  run_after\?: string;\n\+  run_after: string;\n/);

    const added = of('access-review');
    assert.ok(added.changes.every((c) => c.change === 'added'));
    assert.deepEqual(added.changes.map((c) => `${c.subject} ${c.name}`), ['stage check', 'stage execute', 'field system', 'field roles', 'field until', 'field reason']);
    assert.match(added.request_type.status === 'changed' ? added.request_type.diff : '', /^--- \(new pipeline\)\n\+\+\+ AccessReviewRequest v1\n@@ -0,0 \+1,\d+ @@\n/);

    const removed = of('travel-expense');
    assert.equal(removed.file, 'pipelines/travel-expense.yaml');
    assert.deepEqual(removed.outcome, { result: 'warn', reasons: ['removed: no new tickets start on it; open ones finish on their version'] });
    assert.equal(removed.definition, null);
  });

  test('the breaking-change verdict is validate\'s: the same findings at the same places', async () => {
    const validate = await runCli(['validate', '--base', 'main', '--format', 'json'], { cwd: dir });
    assert.equal(validate.code, 1);
    const validated = (JSON.parse(validate.stdout) as Diagnostic[]).filter((d) => d.rule === 'breaking-change');
    const { plan } = await jsonPlan(dir);
    assert.deepEqual(plan.pipelines.flatMap((p) => p.diagnostics.filter((d) => d.rule === 'breaking-change')), validated);
    assert.deepEqual(
      plan.pipelines.flatMap((p) => (p.breaking.verdict === 'unacknowledged' ? p.breaking.changes.map((b) => [p.file, b.line, b.col]) : [])),
      validated.map((d) => [d.file, d.line, d.col]),
    );
    assert.equal(validated.length, 1);
  });

  test('text and markdown say the same: the changes, the type diff, the verdicts, "skipped: no credentials"', async () => {
    const text = await planIn(dir, []);
    assert.equal(text.code, 1);
    for (const line of [
      'admin-permission (pipelines/admin-permission.yaml): v1 → v2',
      '  ⚠️ breaking changes, acknowledged',
      '    ~ stage check: endpoint https://admin.example.com/ticketflow/check → https://admin-v2.example.com/ticketflow/check',
      '    ~ stage execute: deadline (unset) → 1h',
      '    ~ field roles: option auditor added',
      '    ~ field until: type date → datetime  [breaking]',
      '    + field ticket_ref: text, required',
      '  breaking changes, acknowledged (metadata.acknowledge_breaking: 2):',
      '    pipelines/admin-permission.yaml:50:11: field "until" changed type from date to datetime',
      "    -  roles: ('viewer' | 'editor' | 'admin')[];",
      '  IM definition: skipped: no credentials: set LARK_APP_ID and LARK_APP_SECRET',
      '    ~ field run_after: made required  [breaking]',
      '  breaking changes, not acknowledged: set "metadata.acknowledge_breaking: 2" once the business service handles both shapes:',
      'travel-expense (pipelines/travel-expense.yaml): removed, was v1',
      '4 pipeline(s) changed since main: 1 failing',
    ]) {
      assert.ok(text.stdout.split('\n').includes(line), `text has the line ${JSON.stringify(line)}:\n${text.stdout}`);
    }
    assert.doesNotMatch(text.stdout, /clouddm-data-change/, 'an unchanged pipeline is not in the plan');

    const md = await planIn(dir, ['--format', 'markdown']);
    assert.equal(md.code, 1);
    assert.ok(md.stdout.startsWith('<!-- ticketflow-plan -->\n## Ticketflow plan\n'), md.stdout);
    for (const fragment of [
      '| `admin-permission` | `pipelines/admin-permission.yaml` | v1 → v2 | ⚠️ breaking changes, acknowledged |',
      '| `sql-change` | `pipelines/sql-change.yaml` | v1 → v2 | ❌ breaking changes not acknowledged |',
      '### ⚠️ admin-permission (v1 → v2)',
      '| stage `check` | endpoint `https://admin.example.com/ticketflow/check` → `https://admin-v2.example.com/ticketflow/check` |',
      '| field `until` | type `date` → `datetime` — **breaking** |',
      '| field `roles` | option `admin` removed |',
      '**What the business service receives** (`AdminPermissionRequest`):\n\n```diff\n--- AdminPermissionRequest v1\n+++ AdminPermissionRequest v2\n',
      '**IM definition**: skipped: no credentials: set LARK_APP_ID and LARK_APP_SECRET',
      '### ❌ sql-change (v1 → v2)',
      '**Breaking changes**: ❌ not acknowledged: once the business service handles both shapes, set `metadata.acknowledge_breaking: 2`',
      '### ⚠️ travel-expense (removed, was v1)',
    ]) {
      assert.ok(md.stdout.includes(fragment), `markdown has ${JSON.stringify(fragment)}:\n${md.stdout}`);
    }
  });

  test('a new version that does not validate: validate\'s file:line:col errors, exit 1, nothing planned from it', async (t) => {
    const broken = await pullRequestRepo();
    t.after(() => rm(broken, { recursive: true, force: true }));
    await edit(broken, 'sql-change', (text) => text.replace('    mode: sync\n', '    mode: synk\n'));
    const { code, of } = await jsonPlan(broken);
    assert.equal(code, 1);
    const sql = of('sql-change');
    assert.deepEqual(sql.outcome.reasons, ['the new version does not validate', 'breaking changes not acknowledged']);
    assert.deepEqual(sql.request_type, { status: 'unavailable', reason: 'the new version does not validate' });
    assert.equal(sql.definition, null);
    const text = await planIn(broken, ['pipelines/sql-change.yaml']);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^ {4}pipelines\/sql-change\.yaml:20:11: error: invalid value "synk" for "stages\.check\.mode"; did you mean "sync"\? \(expected one of: sync, async\) \[schema\]$/m);
    assert.match(text.stdout, /^ {2}IM definition: not checked: the new version does not validate$/m);
  });

  test('nothing changed: said so, exit 0; bad usage exits 2', async () => {
    const none = await runCli(['plan', '--base', 'HEAD', 'pipelines/clouddm-data-change.yaml'], { cwd: dir, env: bare });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout.trim(), 'no pipeline changed since HEAD');
    const md = await runCli(['plan', '--base', 'HEAD', '--format', 'markdown', 'pipelines/clouddm-data-change.yaml'], { cwd: dir, env: bare });
    assert.equal(md.stdout.trim(), '<!-- ticketflow-plan -->\n## Ticketflow plan\n\nNo pipeline changed since `HEAD`.');
    const plain = await runCli(['plan', '--base', 'HEAD', '--runtime', 'http://10.0.0.7:8080', 'pipelines/clouddm-data-change.yaml'], { cwd: dir, env: { ...bare, TICKETFLOW_ADMIN_TOKEN: 'x'.repeat(40) } });
    assert.equal(plain.code, 0);
    assert.equal(plain.stderr.trim(), 'ticketflow plan: warning: --runtime http://10.0.0.7:8080 is plain http: TICKETFLOW_ADMIN_TOKEN crosses the network readable; use https');

    const usage = async (args: string[], env: NodeJS.ProcessEnv, message: RegExp) => {
      const r = await runCli(['plan', ...args], { cwd: dir, env: { ...bare, ...env } });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
    };
    await usage([], {}, /--base is required/);
    await usage(['--base', 'no-such-branch'], {}, /--base: "no-such-branch" is not a git revision here/);
    await usage(['--base', 'main', '--format', 'html'], {}, /--format must be one of text, markdown, json, got "html"/);
    await usage(['--base', 'main', '--runtime', 'ftp://runtime.example.com'], { TICKETFLOW_ADMIN_TOKEN: 'x'.repeat(40) }, /--runtime must be an http or https URL, got "ftp:\/\/runtime\.example\.com"/);
    await usage(['--base', 'main', '--runtime', 'runtime.example.com'], { TICKETFLOW_ADMIN_TOKEN: 'x'.repeat(40) }, /--runtime must be an http or https URL/);
    await usage(['--base', 'main', '--runtime', 'https://runtime.example.com'], {}, /--runtime reads the admin API with TICKETFLOW_ADMIN_TOKEN, which is not set/);
    await usage(['--base', 'main', 'no/such/dir'], {}, /no such file or directory: no\/such\/dir/);
    const help = await runCli(['plan', '--help'], { cwd: dir });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit status: 0 the plan is made/);
  });
});

describe('ticketflow plan: the live IM definition (doctor) against the Lark simulator', () => {
  let dir: string;
  let lark: LarkSimulator;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    dir = await pullRequestRepo();
    lark = await startLarkSimulator();
    env = { LARK_APP_ID: lark.options.appId, LARK_APP_SECRET: lark.options.appSecret, LARK_BASE_URL: lark.url, LARK_VERIFICATION_TOKEN: 'x', LARK_ASSISTANT_USER_ID: 'assistant' };
  });
  after(async () => {
    await lark.close();
    await rm(dir, { recursive: true, force: true });
  });

  const pipelineAt = async (path: string) => checkPipelines([{ path: 'p.yaml', text: await readFile(path, 'utf8') }]).files[0]!.pipeline!;

  test('a definition that already has the new field matches (exit 0); the old one lacks it: drift, with the remedy, exit 1', async () => {
    lark.model.defineApproval(definitionForPipeline(await pipelineAt(join(dir, 'pipelines/admin-permission.yaml')), 'assistant'));
    const ok = await jsonPlan(dir, ['pipelines/admin-permission.yaml'], env);
    assert.equal(ok.code, 0);
    const check = ok.of('admin-permission').definition!.check;
    assert.equal(check.status, 'match', JSON.stringify(check));
    assert.deepEqual(ok.of('admin-permission').outcome.result, 'warn');

    lark.model.defineApproval(definitionForPipeline(await pipelineAt(join(repoRoot, 'pipelines/admin-permission.yaml')), 'assistant'));
    const drift = await jsonPlan(dir, ['pipelines/admin-permission.yaml'], env);
    assert.equal(drift.code, 1);
    const admin = drift.of('admin-permission');
    assert.equal(admin.definition!.check.status, 'drift');
    assert.deepEqual(admin.outcome, { result: 'fail', reasons: ['the IM definition does not match the new version', 'breaking changes, acknowledged'] });

    const md = await planIn(dir, ['pipelines/admin-permission.yaml', '--format', 'markdown'], env);
    assert.equal(md.code, 1);
    assert.match(md.stdout, new RegExp(`\\*\\*IM definition\\*\\*: ❌ 1 mismatch\\(es\\) between the new version and definition ${ADMIN_CODE}\\n\\n- field "ticket_ref": the Lark form has no widget with custom id "ticket_ref" → add the widget to the Lark form, or fix fields\\.ticket_ref\\.widget\\n`));
    const text = await planIn(dir, ['pipelines/admin-permission.yaml'], env);
    assert.match(text.stdout, /^ {2}IM definition: ❌ 1 mismatch\(es\) between the new version and definition 7C468A54/m);
  });

  test('an IM configuration the runtime would refuse skips the checks with its reason, and fails nothing', async () => {
    const r = await jsonPlan(dir, ['pipelines/admin-permission.yaml'], { LARK_APP_ID: 'cli_a1b2c3d4e5f60718' });
    assert.equal(r.code, 0);
    assert.deepEqual(r.of('admin-permission').definition, { check: { status: 'skipped', code: ADMIN_CODE, reason: 'the IM configuration is refused: LARK_APP_ID is set but LARK_APP_SECRET is not' } });
  });

  test('a definition the IM does not have is a failure with the IM\'s reason (a new pipeline whose approval is not created yet)', async () => {
    const r = await jsonPlan(dir, ['pipelines/access-review.yaml'], env);
    assert.equal(r.code, 1);
    const check = r.of('access-review').definition!.check;
    assert.equal(check.status, 'unreadable');
    assert.match(check.status === 'unreadable' ? check.reason : '', /^could not read lark definition 9A1B2C3D-0000-4000-8000-000000000001: /);
  });
});

describe('ticketflow plan --runtime: open tickets per version from a running runtime', () => {
  let dir: string;
  let stack: TestStack;
  const token = 'plan-admin-token-'.padEnd(40, 'x');
  before(async () => {
    dir = await pullRequestRepo();
    stack = await startStack({ env: { TICKETFLOW_ADMIN_TOKEN: token } });
    const tickets: Array<[string, string]> = [['admin-permission', 'in_approval'], ['admin-permission', 'needs_operator'], ['admin-permission', 'awaiting_check_callback'], ['admin-permission', 'completed'], ['admin-permission', 'rejected_by_approver'], ['travel-expense', 'executing']];
    for (const [i, [name, state]] of tickets.entries()) {
      await stack.runtime.pool.query(
        `INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, state, data)
         VALUES ($1, $2, 1, 'lark', 'X', $1, $3, '{"applicant": {"user_id": "u"}, "tasks": {}, "results": {}}')`,
        [`tk_plan_${i}`, name, state],
      );
    }
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('each pipeline says how many open tickets each stored version holds; a new one is not deployed', async () => {
    const { of } = await jsonPlan(dir, ['--runtime', stack.runtime.url], { TICKETFLOW_ADMIN_TOKEN: token });
    assert.deepEqual(of('admin-permission').open_tickets, { status: 'read', live: 1, versions: [{ version: 1, open_tickets: 3 }] });
    assert.deepEqual(of('travel-expense').open_tickets, { status: 'read', live: 1, versions: [{ version: 1, open_tickets: 1 }] });
    assert.deepEqual(of('access-review').open_tickets, { status: 'not_deployed' });

    const md = await planIn(dir, ['--runtime', `${stack.runtime.url}/`, '--format', 'markdown'], { TICKETFLOW_ADMIN_TOKEN: token });
    assert.match(md.stdout, /### ⚠️ travel-expense \(removed, was v1\)[\s\S]*\*\*Open tickets\*\* \(from the runtime\):\n\n\| version \| open tickets \|\n\|---\|---\|\n\| v1 \(live\) \| 1 \|/);
    const text = await planIn(dir, ['--runtime', stack.runtime.url], { TICKETFLOW_ADMIN_TOKEN: token });
    assert.ok(text.stdout.split('\n').includes('  open tickets: v1 (live): 3'), text.stdout);
  });

  test('a wrong token or a runtime that does not answer is one line in the section, and changes no exit status', async () => {
    const only = ['pipelines/admin-permission.yaml'];
    const wrong = await jsonPlan(dir, [...only, '--runtime', stack.runtime.url], { TICKETFLOW_ADMIN_TOKEN: 'wrong-token-'.padEnd(40, 'y') });
    assert.equal(wrong.code, 0);
    assert.deepEqual(wrong.of('admin-permission').open_tickets, { status: 'error', reason: `the runtime at ${stack.runtime.url} refused TICKETFLOW_ADMIN_TOKEN (HTTP 401)` });

    const port = await closedPort();
    const down = await planIn(dir, [...only, '--runtime', `http://127.0.0.1:${port}`], { TICKETFLOW_ADMIN_TOKEN: token });
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`^ {2}open tickets: not read: the runtime at http://127\\.0\\.0\\.1:${port} could not be reached: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`, 'm'));
    assert.equal(down.stderr, '');
  });
});

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
