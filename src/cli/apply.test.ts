import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDingTalkSimulator, type DingTalkSimulator } from '../providers/dingtalk/simulator/server.ts';
import { repoRoot, runCli } from '../testing/cli.ts';
import { dingTalkEnv } from '../testing/dingtalk.ts';

const managed = `# yaml-language-server: $schema=../schemas/pipeline.schema.json
apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: db-access, version: 1, owner: dba-team@example.com }
provider:
  type: dingtalk
  form: { name: 数据库权限申请, description: 申请数据库的读写权限 }
origin: api
notify_url: https://dbops.example.com/notify
secret_env: TICKETFLOW_SECRET_DB_ACCESS
stages:
  check: { endpoint: https://dbops.example.com/check, mode: sync }
fields:
  database: { widget: { label: 数据库 }, type: text }
  level:
    widget: { label: 权限 }
    type: option
    options: [{ label: 只读, id: read }, { label: 读写, id: write }]
  reason: { widget: { label: 申请理由 }, type: textarea, required: false }
  rows: { widget: { label: 预计行数 }, type: text, required: false }
`;

describe('ticketflow apply against the DingTalk simulator', () => {
  let ding: DingTalkSimulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const file = () => join(dir, 'db-access.yaml');
  const cli = (...args: string[]) => runCli(args, { env });
  const formPosts = () => ding.calls.filter((c) => c.method === 'POST' && c.path === '/v1.0/workflow/forms').length;
  const form = (code: string) => ding.model.process(code).formComponents.map((c) => [c.props.label, c.componentType, c.props.id, c.props.required ?? false, c.props.options ?? []]);
  let code = '';

  before(async () => {
    ding = await startDingTalkSimulator({ qpsLimit: 0 });
    ding.model.addUser({ userid: 'dt-assistant', deptIds: [12] });
    dir = await mkdtemp(join(tmpdir(), 'tf-apply-'));
    await writeFile(file(), managed);
    await copyFile(join(repoRoot, 'pipelines', 'admin-permission.yaml'), join(dir, 'admin-permission.yaml'));
    env = {
      PIPELINES_DIR: dir,
      LARK_APP_ID: '',
      ...dingTalkEnv(ding),
    };
  });
  after(async () => {
    await ding.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('without process_code: --dry-run shows the form to create and creates nothing; apply creates it, prints its process_code, and doctor then matches', async () => {
    const processes = ding.model.processes.size;
    const dry = await cli('apply', '--dry-run');
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.match(dry.stdout, /^db-access v1 \(no DingTalk process yet\):\n {2}\+ create the form "数据库权限申请" \(DingTalk assigns its process_code\)\n {2}\+ control "数据库": TextField, required\n {2}\+ control "权限": DDSelectField, required\n {2}\+ control "申请理由": TextareaField\n {2}\+ control "预计行数": TextField\n/m);
    assert.match(dry.stdout, /not applied: admin-permission\. Lark is plan, doctor and the drift watch only/);
    assert.match(dry.stdout, /dry run: nothing was changed/);
    assert.equal(ding.model.processes.size, processes);
    assert.equal(formPosts(), 0);

    const applied = await cli('apply', 'db-access');
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    code = /^ {4}process_code: (PROC-[0-9A-F-]+)$/m.exec(applied.stdout)?.[1] ?? '';
    assert.ok(code, applied.stdout);
    assert.match(applied.stdout, new RegExp(`✓ read back: the form of ${code} matches db-access v1`));
    assert.deepEqual(form(code).map(([label, type]) => [label, type]), [['数据库', 'TextField'], ['权限', 'DDSelectField'], ['申请理由', 'TextareaField'], ['预计行数', 'TextField']]);
    assert.deepEqual(form(code)[1]!.slice(3), [true, ['只读', '读写']]);
    assert.equal(ding.model.process(code).description, '申请数据库的读写权限');

    // Not deployable until the code is written: doctor says so; then it matches.
    const before = await cli('doctor', 'db-access');
    assert.equal(before.code, 2);
    assert.match(before.stderr, /the pipeline has no process_code yet: ticketflow apply creates its form/);
    await writeFile(file(), managed.replace('  type: dingtalk\n', `  type: dingtalk\n  process_code: ${code}\n`));
    const doctor = await cli('doctor', 'db-access');
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    assert.match(doctor.stdout, new RegExp(`✓ db-access v1 matches dingtalk definition ${code}`));

    const again = await cli('apply', 'db-access');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /✓ the form matches the pipeline: nothing to do/);
    assert.equal(formPosts(), 1, 'nothing to do means no save');
  });

  test('a changed pipeline (a field added, one retyped, an option added): --dry-run lists exactly that and changes nothing; apply updates and doctor matches', async () => {
    assert.ok(code, 'the previous test created the form');
    const changed = managed
      .replace('  type: dingtalk\n', `  type: dingtalk\n  process_code: ${code}\n`)
      .replace('metadata: { name: db-access, version: 1,', 'metadata: { name: db-access, version: 2,')
      .replace('{ label: 读写, id: write }]', '{ label: 读写, id: write }, { label: 管理, id: admin }]')
      .replace('rows: { widget: { label: 预计行数 }, type: text, required: false }', 'rows: { widget: { label: 预计行数 }, type: number, required: false }\n  until: { widget: { label: 截止日期 }, type: date }');
    await writeFile(file(), changed);
    const before = form(code);
    const posts = formPosts();
    const dry = await cli('apply', 'db-access', '--dry-run');
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    assert.equal(
      dry.stdout,
      `db-access v2 (DingTalk process ${code}):\n` +
        '  ~ control "权限": options [只读, 读写] → [只读, 读写, 管理]\n' +
        '  ~ control "预计行数": TextField → NumberField\n' +
        '  + control "截止日期": DDDateField, required\n' +
        'dry run: nothing was changed\n',
    );
    assert.deepEqual(form(code), before, 'the simulator\'s form is untouched');
    assert.equal(formPosts(), posts);

    const applied = await cli('apply', 'db-access');
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.match(applied.stdout, new RegExp(`✓ updated ${code}\n {2}✓ read back: the form of ${code} matches db-access v2`));
    const after = form(code);
    assert.deepEqual(after.map(([label, type]) => [label, type]), [['数据库', 'TextField'], ['权限', 'DDSelectField'], ['申请理由', 'TextareaField'], ['预计行数', 'NumberField'], ['截止日期', 'DDDateField']]);
    assert.deepEqual(after[1]![4], ['只读', '读写', '管理']);
    assert.equal(after[0]![2], before[0]![2], 'an unchanged control keeps its id');
    const doctor = await cli('doctor', 'db-access');
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  });

  test('DingTalk refusing the save (a branch-condition control retyped) fails with its code, exit 1', async () => {
    const p = ding.model.process(code);
    p.conditionComponents = [p.formComponents.find((c) => c.props.label === '数据库')!.props.id];
    await writeFile(file(), (await readFile(file(), 'utf8')).replace('database: { widget: { label: 数据库 }, type: text }', 'database: { widget: { label: 数据库 }, type: textarea }').replace('version: 2,', 'version: 3,'));
    const refused = await cli('apply', 'db-access');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /✗ DingTalk refused the form: DingTalk v1\.0\/workflow\/forms: 400 formschema\.error 流程条件分支中已使用的表单控件不可修改或删除/);
    p.conditionComponents = [];
  });

  test('a process_code DingTalk does not know: exit 1 with the remedy', async () => {
    await writeFile(join(dir, 'other.yaml'), managed.replace('name: db-access', 'name: other-form').replace('数据库权限申请', '其他').replace('TICKETFLOW_SECRET_DB_ACCESS', 'TICKETFLOW_SECRET_OTHER').replace('  type: dingtalk\n', '  type: dingtalk\n  process_code: PROC-GONE\n'));
    try {
      const gone = await cli('apply', 'other-form');
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /✗ could not read the form of PROC-GONE: .*formNotExist.*\n {2}→ fix provider\.process_code in .*other\.yaml, or remove it to create a new form/);
    } finally {
      await rm(join(dir, 'other.yaml'));
    }
  });

  test('a Lark pipeline is refused with the reason and its source; missing credentials and unknown names exit 2', async () => {
    const lark = await cli('apply', 'admin-permission');
    assert.equal(lark.code, 2);
    assert.match(lark.stderr, /"admin-permission" is a Lark pipeline\. Lark is plan, doctor and the drift watch only: Lark's create-definition API warns that a definition it creates can never be disabled or deleted, from the admin console or the API \(https:\/\/open\.feishu\.cn\/document\/uAjLw4CM\/ukTMukTMukTM\/reference\/approval-v4\/approval\/create\)/);
    const noCredentials = await runCli(['apply'], { env: { ...env, DINGTALK_APP_KEY: '' } });
    assert.equal(noCredentials.code, 2);
    assert.match(noCredentials.stderr, /apply reads and writes DingTalk forms: set DINGTALK_APP_KEY, DINGTALK_APP_SECRET and DINGTALK_ASSISTANT_USER_ID/);
    assert.equal((await cli('apply', 'no-such-pipeline')).code, 2);
  });
});
