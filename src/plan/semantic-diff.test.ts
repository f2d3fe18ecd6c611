import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { breakingChanges } from '../pipeline/breaking-changes.ts';
import { checkPipelines } from '../pipeline/check.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { repoRoot } from '../testing/cli.ts';
import { requestTypeDiff } from './request-type-diff.ts';
import { semanticDiff } from './semantic-diff.ts';

const text = readFileSync(join(repoRoot, 'pipelines/travel-expense.yaml'), 'utf8');
const pipeline = (t: string): Pipeline => {
  const checked = checkPipelines([{ path: 'travel-expense.yaml', text: t }]).files[0]!;
  assert.deepEqual(checked.diagnostics, []);
  return checked.pipeline!;
};
const base = pipeline(text);

test('table columns, provider and origin changes, a field made optional, a stage removed: each one line, breaking only as the rule judges', () => {
  const head = pipeline(
    text
      .replace('  version: 1\n', '  version: 2\n')
      .replace('approval_code: B2D7E9A0-13C4-4E5F-8A6B-7C8D9E0F1A2B', 'approval_code: B2D7E9A0-13C4-4E5F-8A6B-000000000000')
      .replace(/ {2}check:\n(?: {4}.*\n)+/, '')
      .replace('        type: text\n        required: false\n', '        type: textarea\n')
      .replace('          - { label: 餐饮, label_en: Meals, id: meals }\n', '')
      .replace('    type: amount\n    currency: CNY\n', '    type: amount\n    currency: USD\n    required: false\n'),
  );
  assert.deepEqual(semanticDiff(head, base), [
    { subject: 'pipeline', name: 'travel-expense', change: 'changed', property: 'provider.approval_code', from: 'B2D7E9A0-13C4-4E5F-8A6B-7C8D9E0F1A2B', to: 'B2D7E9A0-13C4-4E5F-8A6B-000000000000', breaking: false },
    { subject: 'stage', name: 'check', change: 'removed', from: 'sync https://finance.example.com/ticketflow/budget-check, timeout 5s', breaking: true },
    { subject: 'field', name: 'total', change: 'changed', property: 'required', from: 'true', to: 'false', breaking: false },
    { subject: 'field', name: 'total', change: 'changed', property: 'currency', from: 'CNY', to: 'USD', breaking: false },
    { subject: 'field', name: 'lines.category', change: 'option_removed', property: 'options', from: 'meals', breaking: false },
    { subject: 'field', name: 'lines.note', change: 'changed', property: 'type', from: 'text', to: 'textarea', breaking: false },
    { subject: 'field', name: 'lines.note', change: 'changed', property: 'required', from: 'false', to: 'true', breaking: false },
  ]);
  assert.deepEqual(
    breakingChanges(head as unknown as Record<string, unknown>, base as unknown as Record<string, unknown>).changes.map((c) => c.kind),
    ['stage_removed'],
    'the breaking marks are exactly the rule\'s findings',
  );
});

test('a field removed is breaking; one added is not; an unchanged pipeline has no changes and an unchanged request type', async () => {
  const head = pipeline(text.replace('  version: 1\n', '  version: 2\n').replace(/ {2}contact_phone:\n(?: {4}.*\n)+/, '').concat('  project:\n    widget: { custom_id: project }\n    type: text\n'));
  assert.deepEqual(semanticDiff(head, base), [
    { subject: 'field', name: 'contact_phone', change: 'removed', from: 'phone, optional', breaking: true },
    { subject: 'field', name: 'project', change: 'added', to: 'text, required', breaking: false },
  ]);
  assert.deepEqual(semanticDiff(base, base), []);
  assert.deepEqual(await requestTypeDiff(pipeline(text.replace('  version: 1\n', '  version: 2\n').replace('timeout: 5s', 'timeout: 6s')), base), { status: 'unchanged', type: 'TravelExpenseRequest' });
});

test('the request type diff shows a stage removed from the envelope and a table column retyped', async () => {
  const head = pipeline(text.replace('  version: 1\n', '  version: 2\n').replace(/ {2}check:\n(?: {4}.*\n)+/, '').replace('        type: text\n        required: false\n', '        type: number\n        required: false\n'));
  const diff = await requestTypeDiff(head, base);
  assert.equal(diff.status, 'changed');
  const lines = diff.status === 'changed' ? diff.diff.split('\n').filter((l) => /^[-+] /.test(l)) : [];
  assert.deepEqual(lines, [
    '- * What Ticketflow POSTs to the check and execute endpoints of "travel-expense".',
    '+ * What Ticketflow POSTs to the execute endpoint of "travel-expense".',
    "-  stage: 'check' | 'execute';", "+  stage: 'execute';", '-  note?: string;', '+  note?: number;']);
});

test("an option relabelled under the same id is a change: the IM reports a choice by its label, so the mapping changes", () => {
  const head = pipeline(text.replace('  version: 1\n', '  version: 2\n').replace('{ label: 住宿, label_en: Lodging, id: lodging }', '{ label: 酒店, label_en: Hotel, id: lodging }'));
  assert.deepEqual(semanticDiff(head, base), [
    { subject: 'field', name: 'lines.category', change: 'changed', property: 'options.lodging.label', from: '住宿', to: '酒店', breaking: false },
    { subject: 'field', name: 'lines.category', change: 'changed', property: 'options.lodging.label_en', from: 'Lodging', to: 'Hotel', breaking: false },
  ]);
});
