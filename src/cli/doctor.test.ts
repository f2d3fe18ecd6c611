import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkPipelines } from '../pipeline/check.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from '../providers/dingtalk/simulator/server.ts';
import type { DtProcess } from '../providers/dingtalk/simulator/model.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { startLarkSimulator, type LarkSimulator } from '../providers/lark/simulator/server.ts';
import { repoRoot, runCli } from '../testing/cli.ts';
import { cloudDmDataChangeProcess, cloudDmPermissionProcess, DATA_CHANGE_IM, dataChangeImPipeline, dingTalkEnv } from '../testing/dingtalk.ts';

describe('ticketflow doctor against the IM definitions', () => {
  let lark: LarkSimulator;
  let ding: DingTalkSimulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let admin: Pipeline;
  before(async () => {
    lark = await startLarkSimulator();
    ding = await startDingTalkSimulator();
    ding.model.addUser({ userid: 'dt-assistant', deptIds: [12] }, 'dba-li');
    dir = await mkdtemp(join(tmpdir(), 'tf-doctor-'));
    await cp(join(repoRoot, 'pipelines'), dir, { recursive: true });
    for (const [name, text] of Object.entries(dataChangeImPipeline())) await writeFile(join(dir, name), text);
    admin = checkPipelines([{ path: 'a.yaml', text: await readFile(join(dir, 'admin-permission.yaml'), 'utf8') }]).files[0]!.pipeline!;
    env = {
      PIPELINES_DIR: dir,
      LARK_APP_ID: lark.options.appId,
      LARK_APP_SECRET: lark.options.appSecret,
      LARK_BASE_URL: lark.url,
      LARK_VERIFICATION_TOKEN: 'x',
      LARK_ASSISTANT_USER_ID: 'assistant',
      ...dingTalkEnv(ding),
    };
  });
  after(async () => {
    await lark.close();
    await ding.close();
    await rm(dir, { recursive: true, force: true });
  });

  const doctor = (name: string) => runCli(['doctor', name], { env });

  test('Lark: a matching definition passes; a renamed widget and a missing execute node each say what and how to fix', async () => {
    const def = definitionForPipeline(admin, 'assistant');
    lark.model.defineApproval(def);
    const ok = await doctor('admin-permission');
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /✓ admin-permission v1 matches lark definition 7C468A54/);
    assert.match(ok.stdout, /note: Lark's definition does not say who approves a node/);

    lark.model.defineApproval({ ...def, form: def.form.map((w) => (w.custom_id === 'roles' ? { ...w, custom_id: 'role' } : w)) });
    const renamed = await doctor('admin-permission');
    assert.equal(renamed.code, 1);
    assert.match(renamed.stdout, /✗ field "roles": the Lark form has no widget with custom id "roles"; there is "role"\n {2}→ rename the widget back to "roles" in the Lark form designer, or map the field to "role"/);

    lark.model.defineApproval({ ...def, nodes: def.nodes.filter((n) => n.custom_node_id !== 'execute_node') });
    const missing = await doctor('admin-permission');
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /✗ the execute stage's node "execute_node" is not in the Lark flow\n {2}→ add an approver node at the end of the flow with that id, assigned to assistant/);
  });

  test('DingTalk: a matching definition passes; a renamed control, a missing execute node and a wrong approver each give their own message', async () => {
    const titles: Array<[string, string]> = [['工单类型', 'TextField'], ['工单标题', 'TextField'], ['备注信息', 'TextareaField'], ['关联实例', 'TextField'], ['关联实例信息', 'TextField'], ['实例类型', 'TextField'], ['关联库', 'TextField'], ['预计影响行数', 'TextField'], ['分析的SQL数量', 'TextField'], ['分析的SQL结果汇总', 'TextareaField'], ['SQL内容', 'TextareaField'], ['审批意见', 'TextareaField']];
    const process = (edit: (p: DtProcess) => DtProcess = (p) => p) =>
      ding.model.defineProcess(
        edit({
          processCode: DATA_CHANGE_IM.processCode,
          name: '数据变更工单',
          formComponents: titles.map(([label, type], i) => ({ componentType: type, props: { id: `c${i}`, label } })),
          activities: [
            { activityId: 'act_sql_check', name: 'SQL 检查', approvers: ['dt-assistant'] },
            { activityId: 'act_dba', name: 'DBA 审批', approvers: ['dba-li'] },
            { activityId: 'act_sql_execute', name: 'SQL 执行', approvers: ['dt-assistant'] },
          ],
        }),
      );
    process();
    const ok = await doctor(DATA_CHANGE_IM.name);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);

    process((p) => ({ ...p, formComponents: p.formComponents.map((c) => (c.props.label === '关联库' ? { ...c, props: { ...c.props, label: '关联数据库' } } : c)) }));
    const renamed = await doctor(DATA_CHANGE_IM.name);
    assert.equal(renamed.code, 1);
    assert.match(renamed.stdout, /✗ field "database": the DingTalk form has no widget with title "关联库"; there is "关联数据库"/);

    process((p) => ({ ...p, activities: p.activities.filter((a) => a.activityId !== 'act_sql_execute') }));
    const missing = await doctor(DATA_CHANGE_IM.name);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /✗ the execute stage's node "act_sql_execute" is not in the DingTalk flow/);

    process((p) => ({ ...p, activities: p.activities.map((a) => (a.activityId === 'act_sql_check' ? { ...a, approvers: ['dba-li'] } : a)) }));
    const approver = await doctor(DATA_CHANGE_IM.name);
    assert.equal(approver.code, 1);
    assert.match(approver.stdout, /✗ the check node "act_sql_check" is approved by dba-li, not the assistant dt-assistant\n {2}→ make dt-assistant \(the assistant account\) its only approver/);
  });

  test('DingTalk, origin: api: the CloudDM forms of the guide pass without assistant nodes; a control renamed is named', async () => {
    ding.model.defineProcess(cloudDmDataChangeProcess());
    ding.model.defineProcess(cloudDmPermissionProcess());
    for (const name of ['clouddm-data-change', 'clouddm-permission']) {
      const ok = await doctor(name);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    }
    const permission = cloudDmPermissionProcess();
    ding.model.defineProcess({ ...permission, formComponents: permission.formComponents.map((c) => (c.props.label === '申请的权限' ? { ...c, props: { ...c.props, label: '申请权限' } } : c)) });
    const renamed = await doctor('clouddm-permission');
    assert.equal(renamed.code, 1);
    assert.match(renamed.stdout, /✗ field "privileges": the DingTalk form has no widget with title "申请的权限"; there is "申请权限"/);
  });

  test('bad usage exits 2', async () => {
    assert.equal((await doctor('no-such-pipeline')).code, 2);
    assert.equal((await runCli(['doctor'], { env })).code, 2);
  });
});
