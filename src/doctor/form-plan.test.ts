import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkPipelines } from '../pipeline/check.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { makePlan } from '../plan/plan.ts';
import { renderText } from '../plan/render-text.ts';
import { DingTalkApi } from '../providers/dingtalk/api.ts';
import { desiredForm } from '../providers/dingtalk/managed-form.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from '../providers/dingtalk/simulator/server.ts';
import type { DefinitionApis } from './definitions.ts';
import { formPlanText, planManagedForm } from './form-plan.ts';

const text = (code?: string) => `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: db-access, version: 1, owner: dba@example.com }
provider:
  type: dingtalk
${code ? `  process_code: ${code}\n` : ''}  form: { name: 数据库权限申请 }
origin: api
notify_url: https://db.example.com/notify
secret_env: TICKETFLOW_SECRET_DB_ACCESS
stages:
  check: { endpoint: https://db.example.com/check, mode: sync }
fields:
  database: { widget: { label: 数据库 }, type: text }
`;
const pipeline = (code?: string): Pipeline => checkPipelines([{ path: 'db-access.yaml', text: text(code) }]).files[0]!.pipeline!;

describe('what apply would change, for ticketflow plan', () => {
  let ding: DingTalkSimulator;
  let apis: DefinitionApis;
  before(async () => {
    ding = await startDingTalkSimulator({ qpsLimit: 0 });
    apis = { dingtalk: { api: new DingTalkApi({ appKey: ding.options.appKey, appSecret: ding.options.appSecret, apiBaseUrl: ding.url, oapiBaseUrl: ding.url }), assistantUserId: 'dt-assistant' } };
  });
  after(() => ding.close());

  test('planManagedForm: nothing for a pipeline that owns no form; skipped without credentials; the form to create; nothing to do once saved; unreadable for an unknown process', async () => {
    const unmanaged = checkPipelines([{ path: 'x.yaml', text: text('PROC-X').replace('  form: { name: 数据库权限申请 }\n', '') }]).files[0]!.pipeline!;
    assert.equal(await planManagedForm(apis, unmanaged), undefined);
    assert.deepEqual(await planManagedForm({}, pipeline()), { status: 'skipped', reason: 'no credentials: set DINGTALK_APP_KEY, DINGTALK_APP_SECRET and DINGTALK_ASSISTANT_USER_ID' });
    const create = await planManagedForm(apis, pipeline());
    assert.equal(create?.status, 'planned');
    assert.deepEqual(formPlanText(create!), { line: 'ticketflow apply would make 2 change(s) to a new DingTalk form', items: ['+ create the form "数据库权限申请" (DingTalk assigns its process_code)', '+ control "数据库": TextField, required'] });
    assert.equal(ding.model.processes.size, 0, 'planning never writes');
    const code = await apis.dingtalk!.api.saveForm(desiredForm(pipeline()));
    assert.deepEqual(formPlanText((await planManagedForm(apis, pipeline(code)))!), { line: `the DingTalk form ${code} matches: apply has nothing to do`, items: [] });
    assert.match(formPlanText((await planManagedForm(apis, pipeline('PROC-GONE')))!).line, /^not planned \(unreadable\): could not read the form of PROC-GONE: .*formNotExist/);
  });

  test('makePlan carries the apply section in the definition, and the text report shows it', async () => {
    const plan = await makePlan({
      base: 'origin/main',
      sources: [{ path: 'pipelines/db-access.yaml', text: text() }],
      baseText: () => undefined,
      removed: [],
      checkDefinition: async () => ({ status: 'skipped', code: '', reason: 'the pipeline has no process_code yet: ticketflow apply creates its form' }),
      planForm: (p) => planManagedForm(apis, p),
      openTickets: async () => ({ status: 'skipped', reason: 'no --runtime given' }),
    });
    assert.equal(plan.pipelines[0]!.definition?.apply?.status, 'planned');
    const report = renderText(plan);
    assert.match(report, /\n {2}apply: ticketflow apply would make 2 change\(s\) to a new DingTalk form\n {4}\+ create the form "数据库权限申请" \(DingTalk assigns its process_code\)\n {4}\+ control "数据库": TextField, required\n/);
  });
});
