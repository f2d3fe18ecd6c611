import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPipelines } from '../pipeline/check.ts';
import { formatText } from '../pipeline/diagnostic.ts';
import { processCodePresent } from './runtime-rules.ts';

const managed = `# yaml-language-server: $schema=../schemas/pipeline.schema.json
apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: db-access, version: 1, owner: dba@example.com }
provider:
  type: dingtalk
  form: { name: 数据库权限申请 }
secret_env: TICKETFLOW_SECRET_DB_ACCESS
stages:
  check: { node: { name: SQL 检查 }, endpoint: https://db.example.com/check, mode: sync }
fields:
  database: { widget: { label: 数据库 }, type: text }
`;

test('a managed DingTalk form without process_code validates with a warning, and the runtime refuses to load it', () => {
  const validated = checkPipelines([{ path: 'db-access.yaml', text: managed }]);
  assert.deepEqual(validated.diagnostics.map(formatText), ['db-access.yaml:5:1: warning: no "process_code" yet: not deployable until apply has created the process; run ticketflow apply db-access and write the printed process_code here [provider-code]']);
  assert.ok(validated.files[0]!.pipeline, 'validate accepts it');
  const loaded = checkPipelines([{ path: 'db-access.yaml', text: managed }], { extraRules: [processCodePresent] });
  assert.equal(loaded.files[0]!.pipeline, undefined, 'the runtime does not load it');
  assert.ok(loaded.diagnostics.map(formatText).includes('db-access.yaml:5:1: error: DingTalk pipeline "db-access" has no process_code, so it is not loaded: run ticketflow apply db-access to create its form, and write the printed process_code into provider.process_code [process-code-unset]'));
  const written = checkPipelines([{ path: 'db-access.yaml', text: managed.replace('  type: dingtalk\n', '  type: dingtalk\n  process_code: PROC-1\n') }], { extraRules: [processCodePresent] });
  assert.deepEqual(written.diagnostics, []);
});

test('without provider.form a DingTalk pipeline still needs process_code (validate error)', () => {
  const d = checkPipelines([{ path: 'db-access.yaml', text: managed.replace('  form: { name: 数据库权限申请 }\n', '') }]).diagnostics.map(formatText);
  assert.deepEqual(d, ['db-access.yaml:5:1: error: a dingtalk provider needs "process_code" [provider-code]']);
});
