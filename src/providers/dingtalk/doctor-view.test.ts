import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { dingTalkDefinitionView } from '../../doctor/definitions.ts';

const example = (name: string) => JSON.parse(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8')) as { _source: string; result: Record<string, any> };

test("doctor reads the documents' schema and forecast examples: controls by props.id, approvers by workNo", () => {
  const schema = example('form-schema.json');
  const forecast = example('process-forecast.json');
  assert.match(schema._source, /obtain-the-form-schema/);
  assert.match(forecast._source, /approval-process-prediction/);
  const view = dingTalkDefinitionView(schema.result.schemaContent.items, forecast.result.workflowActivityRules);
  assert.deepEqual(view, {
    provider: 'dingtalk',
    widgets: [{ id: 'TextField-K2AD4O5B', label: '单行输入框', type: 'TextField' }],
    nodes: [{ key: '1918_5cd3', name: '审批人', approvers: ['26652461xxxx5992'] }],
  });
});
