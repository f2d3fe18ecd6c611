import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkDefinition } from '../../doctor/check-definition.ts';
import { checkPipelines } from '../../pipeline/check.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { weComTemplate } from '../../testing/wecom.ts';
import { WeComApi } from './api.ts';
import { startWeComSimulator } from './simulator/server.ts';

const pipeline = checkPipelines([
  {
    path: 'wecom-doctor.yaml',
    text: `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: wecom-doctor, version: 1, owner: t }
provider: { type: wecom, template_id: TPL-DOC }
origin: api
notify_url: https://svc.example.com/notify
secret_env: TICKETFLOW_SECRET_DEMO
stages:
  execute: { endpoint: https://svc.example.com/execute, mode: sync }
fields:
  title: { widget: { label: 标题 }, type: text }
  rows: { widget: { id: Number-1569573760850 }, type: number }
  env: { widget: { label: 环境 }, type: option, options: [{ label: 生产, id: prod }] }
  roles: { widget: { label: 权限 }, type: options, options: [{ label: 只读, id: viewer }] }
  owner: { widget: { label: 负责人 }, type: person }
  depts: { widget: { label: 部门 }, type: departments }
  items: { widget: { label: 明细 }, type: table, columns: { name: { widget: { label: 项目 }, type: text } } }
`,
  },
]).files[0]!.pipeline as Pipeline;

test('doctor against the WeCom simulator: the template matches, then drifts (a control renamed, a selector made single, a contact made a department picker)', async (t) => {
  const sim = await startWeComSimulator();
  t.after(() => sim.close());
  const template = weComTemplate('TPL-DOC');
  sim.model.defineTemplate(template);
  const apis = { wecom: { api: new WeComApi({ corpId: sim.options.corpId, appSecret: sim.options.appSecret, baseUrl: sim.url }) } };
  const match = await checkDefinition(apis, pipeline);
  assert.equal(match.status, 'match', JSON.stringify(match));
  assert.match(match.status === 'match' ? match.notes.join() : '', /申请人自选/);

  sim.model.defineTemplate({
    ...template,
    controls: template.controls.map((c) => {
      if (c.property.id === 'Text-1569573760849') return { ...c, property: { ...c.property, title: [{ text: '工单标题', lang: 'zh_CN' }] } };
      if (c.property.id === 'Selector-1569573760856') return { ...c, config: { selector: { ...c.config!.selector!, type: 'single' as const } } };
      if (c.property.id === 'Contact-1569573760859') return { ...c, config: { contact: { type: 'single' as const, mode: 'department' as const } } };
      return c;
    }),
  });
  const drift = await checkDefinition(apis, pipeline);
  assert.equal(drift.status, 'drift');
  assert.deepEqual(drift.status === 'drift' ? drift.findings.map((f) => f.problem) : [], [
    'field "title": the WeCom form has no widget with title "标题"; there is "工单标题"',
    'field "roles" is options but its widget "权限" is a Selector/single',
    'field "owner" is person but its widget "负责人" is a Contact/department',
  ]);

  const unreadable = await checkDefinition(apis, { ...pipeline, provider: { type: 'wecom', template_id: 'TPL-NONE' } });
  assert.equal(unreadable.status, 'unreadable');
  assert.equal((await checkDefinition({}, pipeline)).status, 'skipped');
});
